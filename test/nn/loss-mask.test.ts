// Padding is never a target: rows padded by pack/bucket or by pack-sequences (dropLast false) carry an
// attention_mask that packedOf hands to the loss, so a batch with padded rows has the loss and the
// gradients of its real tokens alone (each row's real prefix run at its own length, weighted by its
// targets), whatever ids the padding holds, on one thread and with the head split across the head
// helper thread.
import type { RecordBatch } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { bucketByLength } from '../../operators/pack/bucket.ts';
import { packSequences } from '../../operators/pack/pack-sequences.ts';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { headHelper, headHelperWanted } from '../../src/nn/head/head-helper.ts';
import type { HeadTuning } from '../../src/nn/head/head-loss.ts';
import { Gpt } from '../../src/nn/model/gpt.ts';
import type { PackedBatch } from '../../src/nn/objective/loss.ts';
import { packedOf } from '../../src/nn/train/step-batches.ts';
import { computeGrads, type Grads } from '../../src/nn/train/train-step.ts';
import type { Packed } from '../../src/schema/columns.ts';
import { runOp, tokensBatches } from '../operators/pack/fixtures.ts';
import { relErr } from './golden-params.ts';
import { BYTE_EOS, BYTE_VOCAB, sentenceDocs } from './prose-docs.ts';

beforeAll(async () => {
  await initBackend({ announce: false });
});

const SEQ = 32;
const model = () =>
  Gpt.create({ vocabSize: BYTE_VOCAB, contextLength: 64, nLayer: 2, nHead: 2, dModel: 16, initStd: 0.2 }, { seed: 5 });
const grads = (m: Gpt, b: PackedBatch, head?: HeadTuning): Grads =>
  computeGrads(m, b, { objective: { kind: 'autoregressive' }, head });
const docsOf = (count: number, maxBytes: number, skip: number) =>
  sentenceDocs(count, maxBytes, skip).map((ids, i) => ({ id: `s${i}`, ids }));

/** Each row's real tokens (a prefix: the packers pad at the end) as a one-row batch of its own. */
function realRows(b: PackedBatch): PackedBatch[] {
  const w = b.seqLen + 1;
  return Array.from({ length: b.batch }, (_, r) => {
    let n = 0;
    while (n < w && b.attentionMask![r * w + n] === 1) n++;
    return { inputIds: b.inputIds.slice(r * w, r * w + n), batch: 1, seqLen: n - 1 };
  });
}

/** The target-weighted mean of the rows' separate losses and gradients. */
function combined(m: Gpt, parts: PackedBatch[], head?: HeadTuning): Grads {
  const total = parts.reduce((n, p) => n + p.seqLen, 0);
  let loss = 0;
  const sum = new Map<string, Float32Array>();
  for (const p of parts) {
    const g = grads(m, p, head);
    const f = p.seqLen / total;
    loss += f * g.loss;
    for (const [name, v] of g.grads) {
      const acc = sum.get(name) ?? sum.set(name, new Float32Array(v.length)).get(name)!;
      for (let i = 0; i < v.length; i++) acc[i]! += f * v[i]!;
    }
  }
  return { loss, grads: sum };
}

function expectSame(a: Grads, b: Grads, label: string, tol = 1e-5): void {
  const lossErr = Math.abs(a.loss - b.loss) / b.loss;
  let worst = { name: '', err: 0 };
  for (const [name, g] of b.grads) {
    const err = relErr(a.grads.get(name)!, g);
    if (err > worst.err) worst = { name, err };
  }
  console.log(
    `${label}: loss ${a.loss.toFixed(6)} vs ${b.loss.toFixed(6)} (rel ${lossErr.toExponential(2)}), worst gradient ${worst.name} ${worst.err.toExponential(2)}`,
  );
  expect(lossErr).toBeLessThan(tol);
  expect(worst.err, worst.name).toBeLessThan(10 * tol);
}

describe('loss mask (attention_mask)', () => {
  it.each([
    ['one thread', { threads: 1 }],
    ['head in 7 chunks, helper thread', { chunkRows: 40 }],
  ] as Array<[string, HeadTuning]>)(
    'pack/bucket rows: a padded batch has the loss and gradients of its real tokens (%s)',
    async (label, head) => {
      // sentences of 3..40 bytes + EOS, one per row, padded to seqLen + 1 with padId
      const out = (await runOp(
        tokensBatches(docsOf(16, 40, 0), [16]),
        bucketByLength({ seqLen: SEQ, rowsPerBatch: 8, windowRows: 16, appendEos: true, eosId: BYTE_EOS, padId: 3 }),
      )) as RecordBatch<Packed>[];
      const b = packedOf(out[0]!);
      expect(b.attentionMask).toBeDefined();
      const real = realRows(b);
      expect(real.filter((r) => r.seqLen < SEQ).length).toBeGreaterThan(4); // most rows are padded
      const m = model();
      if (head.chunkRows && headHelperWanted()) expect(headHelper()).toBeDefined();
      expectSame(grads(m, b, head), combined(m, real, head), `bucket, ${label}`);
      m.dispose();
    },
  );

  it('pack-sequences (dropLast false): the padding ids change nothing', async () => {
    const run = (padId: number) =>
      runOp(
        tokensBatches(docsOf(12, 60, 20), [4]),
        packSequences({ seqLen: SEQ, rowsPerBatch: 4, appendEos: true, eosId: BYTE_EOS, dropLast: false, padId }),
      ) as Promise<RecordBatch<Packed>[]>;
    const [a, z] = [(await run(0)).at(-1)!, (await run(200)).at(-1)!];
    const [pa, pz] = [packedOf(a), packedOf(z)];
    const w = SEQ + 1;
    const padded = Array.from(pa.attentionMask!).filter((x) => x === 0).length;
    expect(padded).toBeGreaterThan(5);
    expect(Array.from(pa.inputIds).filter((t, i) => t !== pz.inputIds[i]!).length).toBe(padded);
    const m = model();
    expectSame(grads(m, pz), grads(m, pa), 'pack-sequences, padId 200 vs 0', 1e-6);
    // and the padded row is its real prefix alone, weighted with the full rows
    const full = { inputIds: pa.inputIds.slice(0, (pa.batch - 1) * w), batch: pa.batch - 1, seqLen: SEQ };
    const last = realRows(pa).at(-1)!;
    const parts =
      full.batch > 0
        ? [...realRows({ ...full, attentionMask: pa.attentionMask!.subarray(0, full.batch * w) }), last]
        : [last];
    expectSame(grads(m, pa), combined(m, parts), 'pack-sequences, padded batch vs real rows');
    m.dispose();
  });
});
