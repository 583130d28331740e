// shuffleRows on packed rows of real tokens and on Tokens rows (strings, dictionaries, nulls): the
// output is a permutation of the input rows with every row intact, the same for a seed however the
// input is batched, different for another seed, and it runs under a small credit budget.
import { describe, expect, it } from 'vitest';
import { Int32, type RecordBatch } from 'apache-arrow';
import { pipeline } from '../../../src/graph/spec.ts';
import { runPipeline } from '../../../src/runtime/run.ts';
import { withColumns } from '../../../src/schema/build.ts';
import { packSequences } from '../../../operators/pack/pack-sequences.ts';
import { shuffleRows } from '../../../operators/pack/shuffle.ts';
import {
  GPT2_EOS,
  batchSource,
  cells,
  collectSink,
  inputs,
  outputs,
  realDocs,
  runOp,
  tokensBatches,
} from './fixtures.ts';

const docs = realDocs();

/** Packed rows (seqLen 64) with a row number column `idx`, re-cut into batches of `rows`. */
async function numberedRows(rows: number): Promise<{ batches: RecordBatch[]; ids: number[][] }> {
  const packed = await runOp(
    tokensBatches(docs, [10]),
    packSequences({ seqLen: 64, rowsPerBatch: rows, appendEos: true, eosId: GPT2_EOS }),
  );
  let n = 0;
  const batches = packed.map((b) =>
    withColumns(b, { idx: Int32Array.from({ length: b.numRows }, () => n++) }, { idx: new Int32() }),
  );
  return { batches, ids: packed.flatMap((b) => cells(b, 'input_ids')) };
}
const idxOf = (bs: RecordBatch[]) => bs.flatMap((b) => Array.from(b.getChild('idx')!, (v) => v as number));

describe('shuffleRows', () => {
  it('emits a permutation of the rows, each row intact, in batches of rowsPerBatch', async () => {
    const { batches, ids } = await numberedRows(50);
    expect(ids.length).toBeGreaterThan(4000); // many compactions of a 256-row buffer
    const out = await runOp(batches, shuffleRows({ bufferRows: 256, seed: 5, rowsPerBatch: 32 }));
    expect(out[0]!.schema.fields.map((f) => f.name)).toEqual(['input_ids', 'idx']);
    expect(out.slice(0, -1).every((b) => b.numRows === 32)).toBe(true);
    const idx = idxOf(out);
    expect(idx).toHaveLength(ids.length);
    expect([...idx].sort((a, b) => a - b)).toEqual(ids.map((_, i) => i));
    const rows = out.flatMap((b) => cells(b, 'input_ids'));
    rows.forEach((r, k) => expect(r).toEqual(ids[idx[k]!]));
    // it does move rows: most leave their place, some by more than the buffer
    const moved = idx.filter((v, k) => v !== k).length;
    expect(moved / idx.length).toBeGreaterThan(0.95);
    expect(Math.max(...idx.map((v, k) => Math.abs(v - k)))).toBeGreaterThan(256);
  });

  it('depends only on the seed and the row sequence: rebatched input, same order; another seed, another order', async () => {
    const a = await numberedRows(50);
    const b = await numberedRows(7);
    const cfg = { bufferRows: 500, rowsPerBatch: 64 };
    const s1 = idxOf(await runOp(a.batches, shuffleRows({ ...cfg, seed: 1 })));
    expect(idxOf(await runOp(b.batches, shuffleRows({ ...cfg, seed: 1 })))).toEqual(s1);
    const s2 = idxOf(await runOp(a.batches, shuffleRows({ ...cfg, seed: 2 })));
    expect(s2).not.toEqual(s1);
    expect([...s2].sort((x, y) => x - y)).toEqual([...s1].sort((x, y) => x - y));
  });

  it('with fewer rows than the buffer, shuffles them all at the end', async () => {
    const { batches, ids } = await numberedRows(16);
    const few = batches.slice(0, 6); // 96 rows
    const out = await runOp(few, shuffleRows({ bufferRows: 1000, seed: 3, rowsPerBatch: 40 }));
    expect(out.map((b) => b.numRows)).toEqual([40, 40, 16]);
    const idx = idxOf(out);
    expect([...idx].sort((x, y) => x - y)).toEqual(Array.from({ length: 96 }, (_, i) => i));
    expect(idx.slice(0, 10)).not.toEqual(Array.from({ length: 10 }, (_, i) => i));
    out.flatMap((b) => cells(b, 'input_ids')).forEach((r, k) => expect(r).toEqual(ids[idx[k]!]));
  });

  it('keeps rows of strings, dictionaries, nulls and token lists intact', async () => {
    const input = tokensBatches(docs, [4, 9]);
    const out = await runOp(input, shuffleRows({ bufferRows: 16, seed: 11, rowsPerBatch: 8 }));
    const byId = new Map(docs.map((d) => [d.id, Array.from(d.ids)]));
    const seen: string[] = [];
    for (const b of out) {
      const tokens = cells(b, 'tokens');
      for (let r = 0; r < b.numRows; r++) {
        const id = b.getChild('id')!.get(r) as string;
        seen.push(id);
        expect(tokens[r]).toEqual(byId.get(id));
        expect(b.getChild('url')!.get(r)).toBeNull();
        expect(b.getChild('source')!.get(r)).toBe(id.startsWith('moby') ? 'moby' : 'sotu');
      }
    }
    expect([...seen].sort()).toEqual(docs.map((d) => d.id).sort());
    expect(seen).not.toEqual(docs.map((d) => d.id));
  });

  it('runs in a pipeline with 2 batches in flight and gives the plain RxJS order', async () => {
    inputs.set('shuffle', tokensBatches(docs, [1]));
    const cfg = { bufferRows: 20, seed: 9, rowsPerBatch: 4 };
    const r = await runPipeline(
      pipeline({
        budget: { maxInFlight: 2 },
        steps: [
          { id: 'src', op: batchSource, config: { key: 'shuffle' } },
          { id: 'shuffle', op: shuffleRows, config: cfg },
          { id: 'out', op: collectSink, config: { key: 'shuffle', ms: 1 } },
        ],
      }),
    );
    expect(r.error).toBeUndefined();
    expect(r.sources.src!.peakInFlight).toBeLessThanOrEqual(2);
    expect(r.sources.src!.inFlight).toBe(0);
    const ids = (bs: RecordBatch[]) => bs.flatMap((b) => Array.from(b.getChild('id')!, (v) => v as string));
    expect(ids(outputs.get('shuffle')!)).toEqual(ids(await runOp(tokensBatches(docs, [6]), shuffleRows(cfg))));
  }, 20_000);
});
