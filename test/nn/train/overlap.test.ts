// Gradient all-reduce overlapping the backward pass (trainer overlapComm, issue 15 item 2). The
// reference is the path without it: gradsInto (one tfjs backward) then allReduceMean. The piecewise
// backward must give its gradients bit for bit (dropout on or off, checkpointed blocks or not, tied
// head or not, accumulating); whole steps at world size 1 and 2 (memoryGroup: both ranks in this
// thread, interleaving at their awaits) must give the same losses, gradient norms and parameters bit
// for bit; world size 2 must give world size 1's losses with 2 accumulation steps (to the tolerance
// test/nn/ddp.test.ts allows); and the recorded events must show a bucket's all-reduce under way
// before the backward of the first block is done.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { getEncoding } from 'js-tiktoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mobyDickChapters } from '../../../operators/ingest/embedded-corpus.ts';
import { initBackend } from '../../../src/nn/backend/backend.ts';
import { Gpt } from '../../../src/nn/model/gpt.ts';
import type { PackedBatch } from '../../../src/nn/objective/loss.ts';
import { FlatLayout } from '../../../src/nn/optim/flat-layout.ts';
import { pieceIndex, piecewiseGradsInto } from '../../../src/nn/train/overlap-grads.ts';
import { reverseBuckets, type OverlapEvent } from '../../../src/nn/train/overlap-reduce.ts';
import { TrainReplica } from '../../../src/nn/train/replica.ts';
import { trainConfig, type TrainConfigInput } from '../../../src/nn/train/train-config.ts';
import { gradsInto } from '../../../src/nn/train/train-step.ts';
import { memoryGroup } from '../../../src/runtime/collectives/memory-transport.ts';
import { Rng } from '../../../src/runtime/rng.ts';

const SEQ = 16;
const BATCH = 4;
const VOCAB = 512;
const ids = getEncoding('gpt2').encode(readFileSync(join(dirname(mobyDickChapters()), 'chapter_1.txt'), 'utf8'));
const rows = Math.floor((ids.length - 1) / SEQ);
const batchAt = (first: number): PackedBatch => ({
  inputIds: Int32Array.from(
    Array.from({ length: BATCH }, (_, i) => ids.slice(((first + i) % rows) * SEQ, ((first + i) % rows) * SEQ + SEQ + 1))
      .flat()
      .map((t) => t % VOCAB),
  ),
  batch: BATCH,
  seqLen: SEQ,
});
const MODEL = { vocabSize: VOCAB, contextLength: SEQ, nLayer: 3, nHead: 2, dModel: 32 };
/** small buckets, so a model this size has several */
const BUCKET = 4096;

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-overlap-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend({ announce: false });
});

const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer).equals(Buffer.from(b.buffer));

describe('piecewiseGradsInto', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['no dropout', { dropout: 0 }],
    ['dropout 0.1 (residual, embedding and attention)', { dropout: 0.1 }],
    ['dropout and DropPath, checkpointed blocks', { dropout: 0.1, dropPath: 0.2, activationCheckpointing: true }],
    ['untied head, learned positions off', { dropout: 0.1, tiedHead: false, positions: 'sinusoidal' }],
  ];
  for (const [name, more] of cases)
    it(`gives gradsInto's loss and gradients bit for bit, accumulating too: ${name}`, async () => {
      const model = Gpt.create({ ...MODEL, ...more }, { seed: 3 });
      const layout = new FlatLayout(model.specs);
      const head = {};
      const ref = new Float32Array(layout.total);
      const got = new Float32Array(layout.total);
      const pieces: string[] = [];
      const pieceOfName = new Map<string, number>();
      for (const [k, b] of [batchAt(0), batchAt(4)].entries()) {
        const rngA = new Rng(100 + k);
        const rngB = new Rng(100 + k);
        const objective = { kind: 'autoregressive' as const, labelSmoothing: 0.1 };
        const l0 = gradsInto(model, b, { objective, rng: rngA, head }, layout, ref, k > 0);
        const l1 = await piecewiseGradsInto(
          model,
          b,
          {
            labelSmoothing: 0.1,
            rng: rngB,
            head,
            onFinal: (names, piece) => {
              for (const n of names) pieceOfName.set(n, pieces.length % 6);
              pieces.push(piece);
            },
          },
          layout,
          got,
          k > 0,
        );
        expect(l1).toBe(l0);
        // both drew the same masks: the generators end in the same state
        expect(rngB.save()).toEqual(rngA.save());
      }
      expect(same(got, ref)).toBe(true);
      expect(ref.some((x) => x !== 0)).toBe(true);
      expect(pieces.slice(0, 6)).toEqual(['start', 'head', 'h.2', 'h.1', 'h.0', 'embeddings']);
      // every parameter reported final once per micro-batch, by the piece pieceIndex names
      expect([...pieceOfName.keys()].sort()).toEqual(layout.entries.map((e) => e.name).sort());
      for (const [n, k] of pieceOfName) expect([n, pieceIndex(model.config, n)]).toEqual([n, k]);
      model.dispose();
    });
});

describe('reverseBuckets', () => {
  it('cuts as DDP does: whole parameters from the last, a parameter bigger than a bucket in pieces from its end', () => {
    const specs = [10, 2, 3, 4, 1].map((n, i) => ({
      name: `p${i}`,
      shape: [n],
      kind: 'weight' as const,
      init: 'zeros' as const,
    }));
    // by hand, cap 5: p4+p3 [15, 20); p2+p1 [10, 15); p0 (10 > 5) as [5, 10) and [0, 5)
    expect(reverseBuckets(new FlatLayout(specs), 5)).toEqual([
      [15, 20],
      [10, 15],
      [5, 10],
      [0, 5],
    ]);
    // one bucket for all when it has room
    expect(reverseBuckets(new FlatLayout(specs), 20)).toEqual([[0, 20]]);
    // never across pieces: p0 and p1 finish last, p2..p4 first
    expect(reverseBuckets(new FlatLayout(specs), 20, (n) => (n === 'p0' || n === 'p1' ? 2 : 1))).toEqual([
      [12, 20],
      [0, 12],
    ]);
  });
});

interface RunResult {
  losses: number[];
  norms: number[];
  sha: string[];
  events: OverlapEvent[];
}

const cfg = (runDir: string, more: Partial<TrainConfigInput>) =>
  trainConfig({
    runDir,
    model: { ...MODEL, dropout: 0.1, activationCheckpointing: true },
    data: { train: 'unused' },
    batchSize: BATCH,
    steps: 3,
    lr: { max: 1e-2, min: 1e-3, warmupSteps: 1 },
    evalEvery: 0,
    checkpointEvery: 0,
    ...more,
  });

/** `steps` steps of a global batch of 2 micro-batches: world size 1 with 2 accumulation steps, or 2 with 1. */
async function run(worldSize: 1 | 2, overlapComm: boolean, tag: string, accum = 2 / worldSize): Promise<RunResult[]> {
  const c = cfg(join(tmp, `${tag}-${worldSize}-${overlapComm}`), { gradAccum: accum, overlapComm });
  const group = worldSize === 1 ? [undefined] : memoryGroup(2);
  return Promise.all(
    group.map(async (collective, rank) => {
      const rep = await TrainReplica.open(c, collective ? { dist: { rank, worldSize, collective } } : {});
      const out: RunResult = { losses: [], norms: [], sha: [], events: [] };
      try {
        for (let s = 0; s < c.steps; s++) {
          const micro = Array.from({ length: accum }, (_, k) =>
            batchAt((s * worldSize * accum + rank * accum + k) * BATCH),
          );
          const g = await rep.forwardBackwardReduce(micro, {
            bucketElems: BUCKET,
            trace: (e) => void (s === 0 && out.events.push(e)),
          });
          const r = await rep.optimizerStep(g, null);
          out.losses.push(r.loss);
          out.norms.push(r.gradNorm);
          out.sha.push(rep.paramsSha256());
        }
      } finally {
        rep.dispose();
      }
      return out;
    }),
  );
}

describe('TrainReplica.forwardBackwardReduce with overlapComm', () => {
  let ws1: RunResult;
  beforeAll(async () => {
    [ws1] = (await run(1, false, 'ref')) as [RunResult];
  });

  it('world size 1: the losses, gradient norms and parameters of the path without it, bit for bit', async () => {
    const [r] = await run(1, true, 'a');
    expect(r!.losses).toEqual(ws1.losses);
    expect(r!.norms).toEqual(ws1.norms);
    expect(r!.sha).toEqual(ws1.sha);
  });

  it('world size 2: bit for bit the path without it, world size 1 with accumulation 2, and overlapped', async () => {
    const [plain0, plain1] = (await run(2, false, 'b')) as [RunResult, RunResult];
    const [over0, over1] = (await run(2, true, 'c')) as [RunResult, RunResult];
    for (const r of [over0, over1]) {
      expect(r.losses).toEqual(plain0.losses);
      expect(r.norms).toEqual(plain0.norms);
      expect(r.sha).toEqual(plain0.sha);
    }
    expect(plain1.sha).toEqual(plain0.sha);
    // elastic data parallelism, to test/nn/ddp.test.ts's tolerance
    for (let i = 0; i < ws1.losses.length; i++) expect(Math.abs(over0.losses[i]! - ws1.losses[i]!)).toBeLessThan(1e-5);
    // overlap: on both ranks a bucket's all-reduce was handed to the collective, and one completed,
    // before the backward of block 0 (the first block) was done
    for (const r of [over0, over1]) {
      const h0 = r.events.find((e) => e.kind === 'piece' && e.what === 'h.0')!;
      expect(h0).toBeDefined();
      const before = r.events.slice(0, r.events.indexOf(h0));
      expect(before.some((e) => e.kind === 'reduce-start')).toBe(true);
      expect(before.some((e) => e.kind === 'reduce-end')).toBe(true);
      // the first bucket (the tied embedding's rows) goes only after the embeddings' piece
      const first = r.events.findIndex((e) => e.kind === 'reduce-start' && e.what === `[0, ${BUCKET})`);
      expect(first).toBeGreaterThan(r.events.findIndex((e) => e.kind === 'piece' && e.what === 'embeddings'));
    }
  });

  it('world size 2 with 2 accumulation steps: bit for bit the path without it', async () => {
    const plain = await run(2, false, 'd', 2);
    const over = await run(2, true, 'e', 2);
    for (const r of over) {
      expect(r.losses).toEqual(plain[0]!.losses);
      expect(r.sha).toEqual(plain[0]!.sha);
    }
    expect(plain[1]!.sha).toEqual(plain[0]!.sha);
  });

  it('refuses what the piecewise backward does not cover, naming the option', async () => {
    const masked = cfg(join(tmp, 'masked'), { overlapComm: true, objective: 'masked' });
    const rep = await TrainReplica.open(masked);
    try {
      await expect(rep.forwardBackwardReduce([batchAt(0)])).rejects.toThrow(/overlapComm: only the causal/);
      expect(() => rep.forwardBackward([batchAt(0)])).toThrow(/overlapComm: forwardBackward .* forwardBackwardReduce/);
    } finally {
      rep.dispose();
    }
    const post = await TrainReplica.open(
      cfg(join(tmp, 'post'), { overlapComm: true, model: { ...MODEL, norm: 'post' } }),
    );
    try {
      await expect(post.forwardBackwardReduce([batchAt(0)])).rejects.toThrow(/overlapComm: .*model.norm 'post'/);
    } finally {
      post.dispose();
    }
  });
});
