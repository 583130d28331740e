// The training loop in-process on real text (Moby-Dick chapter 1, GPT-2 tokens) through an injected
// data source: it learns, evaluation reports exp(loss) as perplexity, a stop request ends the run after
// the current step with a checkpoint, and a run directory is never silently reused or resumed under
// another config. (Bit-for-bit resume across a SIGKILL: test/pipelines/train-resume.e2e.test.ts.)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { getEncoding } from 'js-tiktoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mobyDickChapters } from '../../operators/ingest/embedded-corpus.ts';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { findLatest } from '../../src/nn/checkpoint/index.ts';
import type { PackedBatch } from '../../src/nn/objective/loss.ts';
import { trainConfig, type TrainConfigInput } from '../../src/nn/train/train-config.ts';
import type { TrainData } from '../../src/nn/train/trainer.ts';
import { train } from './reference-trainer.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-trainer-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const SEQ = 16;
const BATCH = 4;
const ids = getEncoding('gpt2').encode(readFileSync(join(dirname(mobyDickChapters()), 'chapter_1.txt'), 'utf8'));
const rows = Math.floor((ids.length - 1) / SEQ);
const rowAt = (r: number) => ids.slice(r * SEQ, r * SEQ + SEQ + 1);
const batchOf = (rs: number[]): PackedBatch => ({
  inputIds: Int32Array.from(rs.flatMap(rowAt)),
  batch: rs.length,
  seqLen: SEQ,
});

/** Rows 0..rows-9 cycled in order for training (the cursor is the next row), the last 8 for validation. */
const data: TrainData = {
  async *train(cursor) {
    let next = typeof cursor === 'number' ? cursor : 0;
    for (;;) {
      const rs = Array.from({ length: BATCH }, (_, i) => (next + i) % (rows - 8));
      next = (next + BATCH) % (rows - 8);
      yield { batch: batchOf(rs), cursor: next };
    }
  },
  async *val() {
    yield batchOf([rows - 8, rows - 7, rows - 6, rows - 5]);
    yield batchOf([rows - 4, rows - 3, rows - 2, rows - 1]);
  },
};
const cfg = (runDir: string, more: Partial<TrainConfigInput> = {}) =>
  trainConfig({
    runDir,
    model: { vocabSize: 50257, contextLength: SEQ, nLayer: 1, nHead: 2, dModel: 16 },
    data: { train: 'unused' },
    batchSize: BATCH,
    steps: 12,
    lr: { max: 1e-2, min: 1e-3, warmupSteps: 2 },
    evalEvery: 6,
    evalBatches: 2,
    checkpointEvery: 6,
    ...more,
  });

beforeAll(async () => {
  await initBackend({ announce: false });
});

describe('train', () => {
  it('learns, evaluates, checkpoints and reports every step', async () => {
    const reports: { step: number; split: string; values: Record<string, number> }[] = [];
    const r = await train(cfg(join(tmp, 'a')), data, {
      onMetrics: (m) => {
        reports.push(m);
      },
    });
    expect(r).toMatchObject({ ok: true, step: 12, startStep: 0, stopped: false, tokens: 12 * BATCH * SEQ });
    expect(r.losses).toHaveLength(12);
    expect(r.losses[11]!).toBeLessThan(r.losses[0]! - 0.3);
    expect(r.val!.perplexity).toBeCloseTo(Math.exp(r.val!.loss), 6);
    expect(r.val!.batches).toBe(2);
    expect(reports.filter((m) => m.split === 'train').map((m) => m.step)).toEqual(
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    expect(reports.filter((m) => m.split === 'val').map((m) => m.step)).toEqual([6, 12]);
    expect(reports.find((m) => m.step === 3 && m.split === 'train')!.values).toMatchObject({ loss: r.losses[2] });
    expect((await findLatest(join(tmp, 'a')))?.step).toBe(12);
  }, 60_000);

  it('stops after the current step with a checkpoint when asked, and resumes from it', async () => {
    const stop = new AbortController();
    const dir = join(tmp, 'b');
    const r = await train(cfg(dir), data, {
      signal: stop.signal,
      onStep: (p) => {
        if (p.step === 4) stop.abort();
      },
    });
    expect(r).toMatchObject({ ok: false, stopped: true, step: 4 });
    expect((await findLatest(dir))?.step).toBe(4);
    await expect(train(cfg(dir), data)).rejects.toThrow(/already holds checkpoint/);
    await expect(train(cfg(dir, { seed: 7 }), data, { resume: true })).rejects.toThrow(/config hash/);
    const resumed = await train(cfg(dir), data, { resume: true });
    expect(resumed).toMatchObject({ ok: true, step: 12, startStep: 4 });
    expect(resumed.losses).toHaveLength(8);
  }, 60_000);
});
