// The reader side of clustered prep's work items (pipelines/prep-cluster-read.ts) on its own: how a job's
// files are cut into items (consecutive groupable files of one kind up to a size, every other file alone,
// at most MAX_ITEM_FILES per item) and the batch weight of a plain text file, read from its ends alone,
// against the whole-file rule over every byte, on a State of the Union address.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { sotuTexts } from '../../operators/ingest/embedded-corpus.ts';
import { readText } from '../../operators/ingest/read-text.ts';
import { groupItems, MAX_ITEM_FILES, TAIL_PARTS, weightsOf, weightsOfAll } from '../../pipelines/prep-cluster-read.ts';
import { prepSpec } from '../../pipelines/prep-default.ts';

const root = mkdtempSync(join(tmpdir(), 'flowlm-prep-cluster-read-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const SOTU = dirname(sotuTexts());

/** `names` written in a fresh directory with `bytes` bytes each; their paths in name order. */
function files(sub: string, names: string[], bytes = 100): string[] {
  const dir = join(root, sub);
  mkdirSync(dir, { recursive: true });
  return names.map((n) => {
    writeFileSync(join(dir, n), 'x'.repeat(bytes));
    return join(dir, n);
  });
}

const step = (dir: string) => prepSpec({ inputs: [join(root, dir, '*')] }).steps![0]!;
const names = (groups: string[][]) => groups.map((g) => g.map((f) => basename(f)));

describe('prep --cluster work items', () => {
  it('groups consecutive text and JSON Lines files up to the item size, never across kinds; others alone', () => {
    const paths = files('mixed', ['a.txt', 'b.txt', 'c.txt', 'd.parquet', 'e.parquet', 'f.jsonl', 'g.jsonl', 'h.txt']);
    const read = step('mixed');
    expect(names(groupItems(read, paths, 1e9))).toEqual([
      ['a.txt', 'b.txt', 'c.txt'],
      ['d.parquet'],
      ['e.parquet'],
      ['f.jsonl', 'g.jsonl'],
      ['h.txt'],
    ]);
    // 100 bytes each: two fit in 250, a third does not; g.jsonl lies in the input's last 250 bytes,
    // where items are a quarter of that: alone
    expect(names(groupItems(read, paths, 250))).toEqual([
      ['a.txt', 'b.txt'],
      ['c.txt'],
      ['d.parquet'],
      ['e.parquet'],
      ['f.jsonl'],
      ['g.jsonl'],
      ['h.txt'],
    ]);
    expect(groupItems(read, paths, 1).every((g) => g.length === 1)).toBe(true);
  });

  it(`cuts the input's last item size ${TAIL_PARTS} times finer, so workers finish together`, () => {
    const paths = files(
      'tail',
      'abcdefghijklmnop'.split('').map((c) => `${c}.txt`),
    );
    // 16 files of 100 bytes, items of 400: the last 400 bytes in items of 100
    expect(names(groupItems(step('tail'), paths, 400))).toEqual([
      ['a.txt', 'b.txt', 'c.txt', 'd.txt'],
      ['e.txt', 'f.txt', 'g.txt', 'h.txt'],
      ['i.txt', 'j.txt', 'k.txt', 'l.txt'],
      ['m.txt'],
      ['n.txt'],
      ['o.txt'],
      ['p.txt'],
    ]);
    // items of 800: the last 800 bytes in items of 200
    expect(groupItems(step('tail'), paths, 800).map((g) => g.length)).toEqual([8, 2, 2, 2, 2]);
  });

  it('keeps text read by line or paragraph a file per item (its batches are cut where each file ends)', () => {
    const paths = files('lines', ['a.txt', 'b.txt', 'c.txt']);
    const byLine = { id: 'read', op: readText, config: { paths, unit: 'line' } };
    expect(groupItems(byLine, paths, 1e9)).toEqual(paths.map((p) => [p]));
    const whole = { id: 'read', op: readText, config: { paths } };
    expect(groupItems(whole, paths, 1e9)).toEqual([paths]);
  });

  it(`puts at most ${MAX_ITEM_FILES} files in an item (the item's message names them all)`, () => {
    const many = Array.from({ length: MAX_ITEM_FILES + 5 }, (_, i) => `f${String(i).padStart(5, '0')}.txt`);
    const paths = files('many', many, 1);
    expect(groupItems(step('many'), paths, 1e9).map((g) => g.length)).toEqual([MAX_ITEM_FILES, 5]);
  });

  it("a text file's weight from its ends alone equals the whole-file rule over all its bytes", async () => {
    const dir = join(root, 'weights');
    mkdirSync(dir, { recursive: true });
    const text = readFileSync(join(SOTU, '1910_william_h_taft_r.txt'), 'utf8').slice(0, 3000);
    const cases: Record<string, string> = {
      'bom-open.txt': `\uFEFF${text}`,
      'bom-nl.txt': `\uFEFF${text}\n`,
      'nl.txt': `${text}\n`,
      'open.txt': text,
      'empty.txt': '',
      'bom.txt': '\uFEFF',
      'nl-only.txt': '\n',
    };
    // the rule whole-file.ts applies (each line's bytes + 1, BOM excluded), over the file's every byte
    const rule = (b: Buffer) => {
      const o = b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
      return b.length === o ? 0 : b.length - o + (b[b.length - 1] === 10 ? 0 : 1);
    };
    const step = prepSpec({ inputs: [join(dir, '*.txt')] }).steps![0]!;
    for (const [name, body] of Object.entries(cases)) {
      writeFileSync(join(dir, name), body);
      writeFileSync(join(dir, `${name}.gz`), gzipSync(Buffer.from(body)));
      const want = rule(Buffer.from(body));
      expect(await weightsOf(step, join(dir, name)), name).toEqual([want]);
      expect(await weightsOf(step, join(dir, `${name}.gz`)), `${name}.gz`).toEqual([want]);
    }
    const names = Object.keys(cases).map((n) => join(dir, n));
    expect(await weightsOfAll(step, names)).toEqual(Object.values(cases).map((b) => rule(Buffer.from(b))));
  });
});
