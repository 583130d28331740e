// bucketByLength on real tokens: every document (EOS appended) comes out as rows whose real tokens
// are its chunks, none lost or repeated; masks mark exactly the real tokens; rows of similar length
// share batches (much less padding than arrival order); seeded batch order; runs under a small budget.
import { describe, expect, it } from 'vitest';
import type { RecordBatch } from 'apache-arrow';
import { OperatorStats } from '../../../src/core/stats.ts';
import { pipeline } from '../../../src/graph/spec.ts';
import { runPipeline } from '../../../src/runtime/run.ts';
import { bucketByLength } from '../../../operators/pack/bucket.ts';
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
  type TokenDoc,
} from './fixtures.ts';

const docs = realDocs();
const PAD = 50257; // outside gpt2's ordinary ids: padding cannot pass for a real token
const base = { appendEos: true, eosId: GPT2_EOS, padId: PAD };

/** The contract, written out: document + EOS cut at k*seqLen into pieces of at most seqLen+1. */
function expectedChunks(ds: readonly TokenDoc[], seqLen: number): number[][] {
  return ds.flatMap((d) => {
    const full = [...d.ids, GPT2_EOS];
    const out = [full.slice(0, seqLen + 1)];
    for (let s = seqLen; s + 1 < full.length; s += seqLen) out.push(full.slice(s, s + seqLen + 1));
    return out;
  });
}

interface Row {
  ids: number[];
  mask: number[];
  real: number[];
}
const rowsOf = (b: RecordBatch): Row[] => {
  const masks = cells(b, 'attention_mask');
  return cells(b, 'input_ids').map((ids, i) => {
    const mask = masks[i]!;
    const n = mask.filter((m) => m === 1).length;
    return { ids, mask, real: ids.slice(0, n) };
  });
};
const key = (r: number[]) => r.join(',');
const sorted = (rs: number[][]) => rs.map(key).sort();

describe('bucketByLength', () => {
  it("loses and repeats no token: the rows are the documents' chunks, masks mark exactly the real tokens", async () => {
    const seqLen = 256;
    const stats = new OperatorStats('bucket');
    const out = await runOp(
      tokensBatches(docs, [3, 8]),
      bucketByLength({ seqLen, rowsPerBatch: 8, windowRows: 64, ...base }, { stats }),
    );
    expect(out[0]!.schema.fields.map((f) => `${f.name}: ${f.type}`)).toEqual([
      'input_ids: FixedSizeList[257]<Int32>',
      'attention_mask: FixedSizeList[257]<Uint8>',
    ]);
    const rows = out.flatMap(rowsOf);
    const want = expectedChunks(docs, seqLen);
    expect(sorted(rows.map((r) => r.real))).toEqual(sorted(want));
    // token count: real tokens minus one overlap per extra chunk of a document = the EOS-joined stream
    const streamLength = docs.reduce((s, d) => s + d.ids.length + 1, 0);
    const extraChunks = want.length - docs.length;
    expect(rows.reduce((s, r) => s + r.real.length, 0) - extraChunks).toBe(streamLength);
    let pad = 0;
    for (const r of rows) {
      expect(r.mask).toHaveLength(seqLen + 1);
      expect(r.mask.slice(0, r.real.length).every((m) => m === 1)).toBe(true);
      expect(r.mask.slice(r.real.length).every((m) => m === 0)).toBe(true);
      expect(r.ids.slice(r.real.length).every((t) => t === PAD)).toBe(true);
      expect(r.real.includes(PAD)).toBe(false);
      pad += seqLen + 1 - r.real.length;
    }
    expect(stats.counters.get('pad tokens')).toBe(pad);
    expect(out.slice(0, -1).every((b) => b.numRows === 8)).toBe(true);
  });

  it('groups similar lengths: batches of a window are in length order and need far less padding', async () => {
    const seqLen = 512;
    const run = (windowRows: number) =>
      runOp(tokensBatches(docs, [4]), bucketByLength({ seqLen, rowsPerBatch: 4, windowRows, ...base, width: 'batch' }));
    const bucketed = await run(128);
    const arrival = await run(4); // a window of one batch: arrival order
    const lengths = (b: RecordBatch) => rowsOf(b).map((r) => r.real.length);
    for (let w = 0; w < bucketed.length; w += 32) {
      const win = bucketed.slice(w, w + 32);
      for (let k = 1; k < win.length; k++)
        expect(Math.max(...lengths(win[k - 1]!))).toBeLessThanOrEqual(Math.min(...lengths(win[k]!)));
    }
    const padding = (bs: RecordBatch[]) => bs.flatMap(rowsOf).reduce((s, r) => s + r.ids.length - r.real.length, 0);
    expect(padding(bucketed) * 3).toBeLessThan(padding(arrival));
    expect(sorted(bucketed.flatMap(rowsOf).map((r) => r.real))).toEqual(
      sorted(arrival.flatMap(rowsOf).map((r) => r.real)),
    );
  });

  it("width 'batch': List columns, every row of a batch padded to the batch's longest, one Int32Array per batch", async () => {
    const out = await runOp(
      tokensBatches(docs, [6]),
      bucketByLength({ seqLen: 300, rowsPerBatch: 5, windowRows: 40, ...base, width: 'batch' }),
    );
    expect(out[0]!.schema.fields.map((f) => `${f.name}: ${f.type}`)).toEqual([
      'input_ids: List<Int32>',
      'attention_mask: List<Uint8>',
    ]);
    const widths = new Set<number>();
    for (const b of out) {
      const rows = rowsOf(b);
      const width = Math.max(...rows.map((r) => r.real.length));
      widths.add(width);
      expect(rows.every((r) => r.ids.length === width && r.mask.length === width)).toBe(true);
      expect(b.getChild('input_ids')!.data[0]!.children[0]!.values.length).toBe(b.numRows * width);
    }
    expect(widths.size).toBeGreaterThan(3);
    expect(sorted(out.flatMap(rowsOf).map((r) => r.real))).toEqual(sorted(expectedChunks(docs, 300)));
  });

  it('is deterministic: the output depends on the rows only, a seed reorders batches reproducibly', async () => {
    const cfg = { seqLen: 256, rowsPerBatch: 4, windowRows: 32, ...base };
    const ids = (bs: RecordBatch[]) =>
      bs.map((b) =>
        rowsOf(b)
          .map((r) => key(r.ids))
          .join('|'),
      );
    const plain = ids(await runOp(tokensBatches(docs, [1]), bucketByLength(cfg)));
    expect(ids(await runOp(tokensBatches(docs, [9, 2]), bucketByLength(cfg)))).toEqual(plain);
    const s1 = ids(await runOp(tokensBatches(docs, [3]), bucketByLength({ ...cfg, seed: 1 })));
    const s1again = ids(await runOp(tokensBatches(docs, [7]), bucketByLength({ ...cfg, seed: 1 })));
    const s2 = ids(await runOp(tokensBatches(docs, [3]), bucketByLength({ ...cfg, seed: 2 })));
    expect(s1again).toEqual(s1);
    expect(s2).not.toEqual(s1);
    expect(s1).not.toEqual(plain);
    expect([...s1].sort()).toEqual([...plain].sort()); // the same batches, in another order
  });

  it('runs in a pipeline with a budget of 2 batches in flight and gives the plain RxJS rows', async () => {
    inputs.set('bucket', tokensBatches(docs, [1]));
    const config = { seqLen: 128, rowsPerBatch: 16, windowRows: 256, ...base };
    const r = await runPipeline(
      pipeline({
        budget: { maxInFlight: 2 },
        steps: [
          { id: 'src', op: batchSource, config: { key: 'bucket' } },
          { id: 'bucket', op: bucketByLength, config },
          { id: 'out', op: collectSink, config: { key: 'bucket', ms: 1 } },
        ],
      }),
    );
    expect(r.error).toBeUndefined();
    expect(r.sources.src!.peakInFlight).toBeLessThanOrEqual(2);
    expect(r.sources.src!.inFlight).toBe(0);
    const plain = await runOp(tokensBatches(docs, [5]), bucketByLength(config));
    expect(outputs.get('bucket')!.flatMap((b) => cells(b, 'input_ids'))).toEqual(
      plain.flatMap((b) => cells(b, 'input_ids')),
    );
  }, 20_000);

  it('rejects a window smaller than a batch', () => {
    expect(() => bucketByLength({ seqLen: 8, rowsPerBatch: 16, windowRows: 8 })).toThrow(
      /config\.windowRows: windowRows \(8\) must be at least rowsPerBatch \(16\)/,
    );
  });
});
