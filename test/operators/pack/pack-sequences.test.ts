// packSequences on real tokens (SOTU + Moby-Dick through js-tiktoken gpt2): every token of the
// document stream (EOS after each document) is accounted for, rows overlap by exactly one token,
// doc_starts point at document starts, the tail is dropped or padded as configured, and the operator
// runs in plain RxJS and in runPipeline under a small credit budget.
import { describe, expect, it } from 'vitest';
import { FixedSizeList, type RecordBatch } from 'apache-arrow';
import { OperatorStats } from '../../../src/core/stats.ts';
import { pipeline } from '../../../src/graph/spec.ts';
import { runPipeline } from '../../../src/runtime/run.ts';
import { packSequences } from '../../../operators/pack/pack-sequences.ts';
import {
  GPT2_EOS,
  batchSource,
  cells,
  collectSink,
  inputs,
  outputs,
  realDocs,
  runOp,
  streamOf,
  tokensBatches,
  withEos,
} from './fixtures.ts';

const docs = realDocs();
const stream = streamOf(docs);
const eos = { appendEos: true, eosId: GPT2_EOS };
const rowsOf = (batches: RecordBatch[], col = 'input_ids') => batches.flatMap((b) => cells(b, col));
/** The rows joined with each row's first token (the previous row's last) removed. */
const unshift = (rows: number[][]) => rows.flatMap((r, i) => (i === 0 ? r : r.slice(1)));

describe('packSequences', () => {
  it('cuts the EOS-joined stream into overlapping rows of seqLen+1 and counts the dropped tail', async () => {
    const seqLen = 128;
    const stats = new OperatorStats('pack');
    const out = await runOp(
      tokensBatches(docs, [3, 1, 7, 2]),
      packSequences({ seqLen, rowsPerBatch: 8, ...eos }, { stats }),
    );
    expect(out[0]!.schema.fields.map((f) => `${f.name}: ${f.type}`)).toEqual(['input_ids: FixedSizeList[129]<Int32>']);
    expect(out.slice(0, -1).every((b) => b.numRows === 8)).toBe(true);
    expect(out.at(-1)!.numRows).toBeGreaterThan(0);
    expect(out.at(-1)!.numRows).toBeLessThanOrEqual(8);
    const rows = rowsOf(out);
    expect(rows.every((r) => r.length === seqLen + 1)).toBe(true);
    for (let i = 1; i < rows.length; i++) expect(rows[i]![0]).toBe(rows[i - 1]![seqLen]);
    // the rows, overlap removed, are the stream's prefix; what is left is the dropped tail (< one row)
    const kept = unshift(rows);
    const dropped = stats.counters.get('tail tokens dropped') ?? 0;
    expect(kept.length + dropped).toBe(stream.length);
    expect(kept).toEqual(Array.from(stream.subarray(0, kept.length)));
    expect(dropped).toBeGreaterThan(0);
    expect(dropped).toBeLessThanOrEqual(seqLen);
    expect(rows.length).toBe(Math.floor((stream.length - 1) / seqLen));
  });

  it('pads the final partial row with padId and marks it in attention_mask: nothing is dropped', async () => {
    // a seqLen whose tail holds at least two tokens (one new label after the overlap)
    const seqLen = [100, 101, 102, 103].find((s) => (stream.length - 1) % s >= 1)!;
    const stats = new OperatorStats('pack');
    const out = await runOp(
      tokensBatches(docs, [5]),
      packSequences({ seqLen, rowsPerBatch: 16, ...eos, dropLast: false, padId: GPT2_EOS }, { stats }),
    );
    expect(out[0]!.schema.fields.map((f) => f.name)).toEqual(['input_ids', 'attention_mask']);
    const rows = rowsOf(out);
    const masks = rowsOf(out, 'attention_mask');
    const real = rows.map((r, i) => r.slice(0, masks[i]!.filter((m) => m === 1).length));
    expect(unshift(real)).toEqual(Array.from(stream));
    expect(stats.counters.get('tail tokens dropped') ?? 0).toBe(0);
    // every mask is a prefix of ones; only the last row has zeros, over padId
    masks.forEach((m, i) => {
      const ones = m.indexOf(0) < 0 ? m.length : m.indexOf(0);
      expect(m.slice(ones).every((v) => v === 0)).toBe(true);
      expect(ones === seqLen + 1).toBe(i < rows.length - 1);
    });
    const last = rows.at(-1)!,
      lastReal = real.at(-1)!.length;
    expect(last.slice(lastReal).every((v) => v === GPT2_EOS)).toBe(true);
    expect(stats.counters.get('pad tokens')).toBe(seqLen + 1 - lastReal);
  });

  it('gives the same rows whether the packer or the tokenizer appended EOS, however inputs are batched', async () => {
    const a = rowsOf(await runOp(tokensBatches(docs, [1]), packSequences({ seqLen: 200, rowsPerBatch: 5, ...eos })));
    const b = rowsOf(await runOp(tokensBatches(withEos(docs), [50]), packSequences({ seqLen: 200, rowsPerBatch: 3 })));
    expect(a.length).toBeGreaterThan(100);
    expect(b).toEqual(a);
  });

  it('doc_starts lists the offsets where documents begin, also at the shared last/first position', async () => {
    const starts: number[] = [];
    docs.reduce((p, d) => {
      starts.push(p);
      return p + d.ids.length + 1;
    }, 0);
    // a seqLen that puts document 3's first token exactly on the overlap of rows 0 and 1
    const seqLen = starts[3]!;
    expect(seqLen).toBeGreaterThan(16);
    const out = await runOp(
      tokensBatches(docs, [4, 9]),
      packSequences({ seqLen, rowsPerBatch: 7, ...eos, docStarts: true }),
    );
    expect(String(out[0]!.schema.fields[1]!.type)).toBe('List<Int32>');
    const rows = rowsOf(out);
    const ds = rowsOf(out, 'doc_starts');
    expect(ds).toHaveLength(rows.length);
    ds.forEach((got, i) => {
      const want = starts.filter((p) => p >= i * seqLen && p <= i * seqLen + seqLen).map((p) => p - i * seqLen);
      expect(got).toEqual(want);
      for (const j of got) if (j > 0) expect(rows[i]![j - 1]).toBe(GPT2_EOS); // a document follows an EOS
    });
    expect(ds[0]).toContain(seqLen);
    expect(ds[1]![0]).toBe(0);
    expect(ds.filter((d) => d.length === 0).length).toBeGreaterThan(0); // rows inside one long address
  });

  it('builds each batch around one Int32Array of rows*(seqLen+1) ids', async () => {
    const seqLen = 64;
    const out = await runOp(tokensBatches(docs.slice(0, 20), [2]), packSequences({ seqLen, rowsPerBatch: 10, ...eos }));
    for (const b of out) {
      const col = b.getChild('input_ids')!;
      expect(col.data).toHaveLength(1);
      expect(col.type).toBeInstanceOf(FixedSizeList);
      const values = col.data[0]!.children[0]!.values;
      expect(values).toBeInstanceOf(Int32Array);
      expect(values.length).toBe(b.numRows * (seqLen + 1));
      cells(b, 'input_ids').forEach((row, i) =>
        expect(Array.from(values.subarray(i * (seqLen + 1), (i + 1) * (seqLen + 1)))).toEqual(row),
      );
    }
  });

  it('rejects appendEos without an eosId, naming the field', () => {
    expect(() => packSequences({ seqLen: 8, appendEos: true })).toThrow(
      /config\.eosId: appendEos is true but eosId is not set/,
    );
  });

  it('runs in a pipeline whose budget is smaller than the inputs one output batch needs (credits return)', async () => {
    // one document per input batch, 2 in flight, 64 rows of 257 per output batch (about 5 documents)
    inputs.set('small', tokensBatches(docs, [1]));
    const spec = pipeline({
      budget: { maxInFlight: 2 },
      steps: [
        { id: 'src', op: batchSource, config: { key: 'small' } },
        { id: 'pack', op: packSequences, config: { seqLen: 256, rowsPerBatch: 64, ...eos, docStarts: true } },
        { id: 'out', op: collectSink, config: { key: 'small', ms: 2 } },
      ],
    });
    const r = await runPipeline(spec);
    expect(r.error).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(r.sources.src!.peakInFlight).toBeLessThanOrEqual(2);
    expect(r.sources.src!.inFlight).toBe(0);
    expect(r.nodes.pack!.batchesIn).toBe(docs.length);
    const got = outputs.get('small')!;
    const plain = await runOp(
      tokensBatches(docs, [1]),
      packSequences({ seqLen: 256, rowsPerBatch: 64, ...eos, docStarts: true }),
    );
    expect(rowsOf(got)).toEqual(rowsOf(plain));
    expect(rowsOf(got, 'doc_starts')).toEqual(rowsOf(plain, 'doc_starts'));
    expect(unshift(rowsOf(got)).length + r.nodes.pack!.counters!['tail tokens dropped']!).toBe(stream.length);
  }, 20_000); // a packer that held its inputs' credits would stall here
});
