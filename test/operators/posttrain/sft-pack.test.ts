// posttrain/sft-pack: whole examples laid end to end from each row's start, doc_starts at each, the loss
// mask as attention_mask (0 at every example's first token and at padding), rows padded with padId,
// one example per row without packing, and overlong examples truncated from the prompt's left or
// dropped. Then the point of it all: on real e-mails (js-tiktoken ids) and a tiny random GPT with
// docMasking, a packed row's loss times its target count is the sum of its examples' response-token
// NLLs, each example computed alone.
import { Field, Int32, List, Schema, Uint8, makeData, makeVector, type RecordBatch } from 'apache-arrow';
import { getEncoding } from 'js-tiktoken';
import { beforeAll, describe, expect, it } from 'vitest';
import { sftPack } from '../../../operators/posttrain/sft-pack.ts';
import { sftTokenize } from '../../../operators/posttrain/sft-tokenize.ts';
import { sftRecordSchema } from '../../../operators/posttrain/sft-data.ts';
import { OperatorStats } from '../../../src/core/stats.ts';
import { initBackend } from '../../../src/nn/backend/backend.ts';
import { Gpt } from '../../../src/nn/model/gpt.ts';
import { autoregressiveLossValue } from '../../../src/nn/objective/loss.ts';
import { packedOf } from '../../../src/nn/train/packed-batch.ts';
import { batchFromColumns, type Packed } from '../../../src/schema/index.ts';
import { cells, runOp } from '../pack/fixtures.ts';
import { emails } from '../ingest/helpers.ts';

beforeAll(async () => {
  await initBackend({ announce: false });
});

interface Ex {
  ids: number[];
  mask: number[];
}
/** An example of `p` prompt tokens and `r` response tokens, ids from `base` up. */
const ex = (base: number, p: number, r: number): Ex => ({
  ids: Array.from({ length: p + r }, (_, i) => base + i),
  mask: [...Array(p).fill(0), ...Array(r).fill(1)],
});

function listOf(rows: number[][], item: Int32 | Uint8) {
  const offsets = new Int32Array(rows.length + 1);
  rows.forEach((r, i) => (offsets[i + 1] = offsets[i]! + r.length));
  const values = item instanceof Int32 ? Int32Array.from(rows.flat()) : Uint8Array.from(rows.flat());
  const child = makeData({ type: item, length: values.length, nullCount: 0, data: values } as never);
  const type = new List(new Field('item', item, false));
  return makeVector(makeData({ type, length: rows.length, nullCount: 0, valueOffsets: offsets, child } as never));
}
const schema = new Schema([
  new Field('tokens', new List(new Field('item', new Int32(), false)), false),
  new Field('loss_mask', new List(new Field('item', new Uint8(), false)), false),
]);
const batchOf = (exs: Ex[]) =>
  batchFromColumns(
    schema as never,
    {
      tokens: listOf(
        exs.map((e) => e.ids),
        new Int32(),
      ),
      loss_mask: listOf(
        exs.map((e) => e.mask),
        new Uint8(),
      ),
    } as never,
  ) as RecordBatch;

const starts = (b: RecordBatch) => [...b.getChild('doc_starts')!].map((v) => Array.from(v as Iterable<number>));
async function pack(exs: Ex[], config: Parameters<typeof sftPack>[0], stats = new OperatorStats('p')) {
  const out = await runOp([batchOf(exs.slice(0, 2)), batchOf(exs.slice(2))], sftPack(config, { stats }));
  return {
    out,
    ids: out.flatMap((b) => cells(b, 'input_ids')),
    mask: out.flatMap((b) => cells(b, 'attention_mask')),
    starts: out.flatMap(starts),
    stats,
  };
}

const A = ex(100, 2, 2);
const B = ex(200, 0, 3); // no prompt: its first token must still not be a target
const C = ex(300, 2, 3);
const D = ex(400, 3, 3);

describe('posttrain/sft-pack', () => {
  it('packs whole examples from each row start; doc_starts; mask 0 at starts, prompts and padding', async () => {
    const r = await pack([A, B, C, D], { seqLen: 9, padId: 7, rowsPerBatch: 2 });
    expect(r.out.map((b) => b.numRows)).toEqual([2, 1]);
    expect(r.out[0]!.schema.fields.map((f) => `${f.name}: ${f.type}`)).toEqual([
      'input_ids: FixedSizeList[10]<Int32>',
      'doc_starts: List<Int32>',
      'attention_mask: FixedSizeList[10]<Uint8>',
    ]);
    expect(r.ids).toEqual([
      [100, 101, 102, 103, 200, 201, 202, 7, 7, 7],
      [300, 301, 302, 303, 304, 7, 7, 7, 7, 7],
      [400, 401, 402, 403, 404, 405, 7, 7, 7, 7],
    ]);
    expect(r.mask).toEqual([
      [0, 0, 1, 1, 0, 1, 1, 0, 0, 0],
      [0, 0, 1, 1, 1, 0, 0, 0, 0, 0],
      [0, 0, 0, 1, 1, 1, 0, 0, 0, 0],
    ]);
    expect(r.starts).toEqual([[0, 4], [0], [0]]);
    expect(r.stats.counters.get('pad tokens')).toBe(3 + 5 + 4);
  });

  it('packing: false puts one example per row', async () => {
    const r = await pack([A, B, C, D], { seqLen: 9, packing: false });
    expect(r.ids.map((row) => row[0])).toEqual([100, 200, 300, 400]);
    expect(r.starts).toEqual([[0], [0], [0], [0]]);
    expect(r.ids[0]).toEqual([100, 101, 102, 103, 0, 0, 0, 0, 0, 0]);
  });

  it('overflow: truncate cuts prompt tokens from the left, drop drops; a response longer than a row drops', async () => {
    const long = ex(500, 5, 7); // 12 tokens in rows of 10: the first 2 prompt tokens go
    const huge = ex(600, 1, 10); // 11 tokens: only 1 prompt token, which cannot all go and leave a start
    const t = await pack([A, long, huge, B], { seqLen: 9 });
    expect(t.ids).toEqual([
      [100, 101, 102, 103, 0, 0, 0, 0, 0, 0],
      [502, 503, 504, 505, 506, 507, 508, 509, 510, 511],
      [200, 201, 202, 0, 0, 0, 0, 0, 0, 0],
    ]);
    expect(t.mask[1]).toEqual([0, 0, 0, 1, 1, 1, 1, 1, 1, 1]);
    expect(Object.fromEntries(t.stats.dropReasons)).toEqual({ 'response longer than a row': 1 });
    expect(t.stats.counters.get('prompt tokens truncated')).toBe(2);
    const d = await pack([A, long, huge, B], { seqLen: 9, overflow: 'drop' });
    expect(d.ids.map((row) => row[0])).toEqual([100]);
    expect(d.starts).toEqual([[0, 4]]);
    expect(Object.fromEntries(d.stats.dropReasons)).toEqual({ 'example longer than a row': 2 });
  });

  it("a packed row's loss is its examples' response NLLs computed alone (tiny GPT, docMasking)", async () => {
    const enc = getEncoding('gpt2');
    const recs = emails(12, 'easy-ham-2').map((m, i) => {
      const [head, ...body] = m.text.split('\n\n');
      const subject = /^Subject: (.*)$/m.exec(head!)?.[1] ?? '';
      return {
        id: `m${i}`,
        prompt: subject,
        response: body
          .join(' ')
          .replace(/\s+/g, ' ')
          .slice(0, 20 + 9 * i),
      };
    });
    const batch = batchFromColumns(sftRecordSchema(), {
      id: recs.map((r) => r.id),
      prompt: recs.map((r) => r.prompt),
      response: recs.map((r) => r.response),
      source: recs.map(() => 'ham'),
    });
    const seqLen = 96;
    const template = { prompt: 'Subject: {prompt}\n' };
    const tokens = await runOp([batch], sftTokenize({ template }));
    const rows = await runOp(tokens, sftPack({ seqLen, overflow: 'drop' }));
    // the reference examples: js-tiktoken ids, prompt unweighted, response and EOS weighted
    const examples = recs
      .map((r) => {
        const p = enc.encode(`Subject: ${r.prompt}\n`);
        const s = [...enc.encode(r.response), 50256];
        return { ids: [...p, ...s], mask: [...p.map(() => 0), ...s.map(() => 1)] };
      })
      .filter((e) => e.ids.length <= seqLen + 1);
    const model = Gpt.create(
      { vocabSize: 50257, contextLength: seqLen, nLayer: 2, nHead: 2, dModel: 16, initStd: 0.2, docMasking: true },
      { seed: 11 },
    );
    const alone = examples.map((e) => {
      const mask = Uint8Array.from(e.mask);
      mask[0] = 0;
      const b = { inputIds: Int32Array.from(e.ids), batch: 1, seqLen: e.ids.length - 1, attentionMask: mask };
      return autoregressiveLossValue(model, b) * mask.slice(1).reduce((a, x) => a + x, 0);
    });
    let next = 0;
    let multi = 0;
    for (const out of rows)
      for (let r = 0; r < out.numRows; r++) {
        const b = packedOf(out.slice(r, r + 1) as RecordBatch<Packed>);
        const n = b.docStarts![0]!.length;
        multi += n > 1 ? 1 : 0;
        const targets = b.attentionMask!.slice(1).reduce((a, x) => a + x, 0);
        const expected = alone.slice(next, next + n).reduce((a, x) => a + x, 0);
        expect(autoregressiveLossValue(model, b) * targets).toBeCloseTo(expected, 3);
        // the same ids, example by example
        const ids = Array.from(b.inputIds);
        const starts = [...Array.from(b.docStarts![0]!), Infinity];
        for (let k = 0; k < n; k++)
          expect(ids.slice(starts[k]!, starts[k]! + examples[next + k]!.ids.length)).toEqual(examples[next + k]!.ids);
        next += n;
      }
    expect(next).toBe(examples.length);
    expect(multi).toBeGreaterThan(0);
  });
});
