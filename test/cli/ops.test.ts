// `flowlm ops`: the real executable lists every operator and resource kind the registry knows, each with
// its description and every config field (nested objects flattened) with type, default and a
// description from the schema's .describe() (the one convention: src/core/config-fields.ts).
import { describe, expect, it } from 'vitest';
import type { ConfigField } from '../../src/core/config-fields.ts';
import { defaultRegistry } from '../../src/graph/registry.ts';
import { flowlm } from './spawn.ts';

interface OpRow {
  id: string;
  kind: string;
  placement?: string;
  description: string;
  fields?: ConfigField[];
}

describe('flowlm ops', () => {
  it('--json: every operator and resource kind, each described, with every config field described', async () => {
    const r = await flowlm(['ops', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as OpRow[];
    const ids = rows.map((row) => row.id);
    // everything the registry resolves is listed, once
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of await defaultRegistry.ids()) expect(ids).toContain(id);
    for (const kind of defaultRegistry.resourceKindNames())
      expect(rows.find((row) => row.id === kind)?.kind).toBe('resource');
    const undescribed: string[] = [];
    for (const row of rows) {
      // a module that fails to load is listed with kind '?' and no fields
      expect(row.kind, `${row.id}: ${row.description}`).not.toBe('?');
      if (!row.description?.trim()) undescribed.push(row.id);
      expect(row.fields, row.id).toBeDefined();
      for (const f of row.fields!) if (!f.description?.trim()) undescribed.push(`${row.id} ${f.name}`);
    }
    expect(undescribed).toEqual([]);
    // nested objects: the object's own row, then each of its fields; a defaulted field keeps its description
    const adamw = rows.find((row) => row.id === 'nn/adamw')!.fields!;
    expect(adamw.map((f) => f.name)).toEqual(expect.arrayContaining(['lr', 'lr.max', 'lr.min', 'lr.warmupSteps']));
    expect(adamw.find((f) => f.name === 'lr.max')).toMatchObject({
      required: false,
      default: 6e-4,
      description: expect.stringMatching(/learning rate/),
    });
    const trainer = rows.find((row) => row.id === 'nn/trainer')!.fields!.map((f) => f.name);
    for (const name of ['masking', 'masking.maskProb', 'masking.maskToken', 'init', 'init.from'])
      expect(trainer).toContain(name);
  });

  it('text: a field shows its name, optional mark, type, default and description', async () => {
    const r = await flowlm(['ops']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const block = (id: string) => {
      const lines = r.stdout.split('\n');
      const at = lines.findIndex((l) => l.startsWith(`${id} `));
      expect(at, id).toBeGreaterThanOrEqual(0);
      const end = lines.findIndex((l, i) => i > at && !l.startsWith(' '));
      return lines.slice(at, end < 0 ? undefined : end).join('\n');
    };
    expect(block('train/shard-batches')).toMatch(
      /^ {6}holdoutRows\?: integer = 256 — rows spread evenly over dir kept out of training for validation$/m,
    );
    expect(block('train/shard-batches')).toMatch(/^ {6}dir: string — shard directory of the training rows/m);
    expect(block('clean/quality')).toMatch(
      /^ {6}gopher\.minWords\?: integer = 50 — documents with fewer words are dropped/m,
    );
    expect(block('nn/gpt')).toMatch(/^ {6}dModel\?: integer — width of the residual stream/m);
  });
});
