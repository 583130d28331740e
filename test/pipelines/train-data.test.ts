// shardTrainData dealing real shards to data-parallel ranks: rank r of W takes micro-batches
// [r*A, (r+1)*A) of each global step of W*A*B rows in the global (shuffled, held-out-skipping) order,
// so the ranks of W=2, A=1 together see exactly the micro-batches of W=1, A=2, and the cursor after
// a step is the same global position on every rank and at every world size (elastic resume).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardTrainData } from '../../operators/train/shard-data.ts';
import type { PackedBatch } from '../../src/nn/objective/loss.ts';
import { trainConfig } from '../../src/nn/train/train-config.ts';
import type { TrainBatch } from '../../src/nn/train/trainer.ts';
import { writeTrainShards } from '../fixtures/train-shards.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-train-data-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const shards = join(tmp, 'shards');
const B = 4;
let rows = 0;
beforeAll(async () => {
  rows = await writeTrainShards(shards, 4, 32, 48);
}, 60_000);

const cfg = (gradAccum: number) =>
  trainConfig({
    runDir: join(tmp, 'run'),
    data: { train: shards, holdoutRows: 16, seqLen: 24 },
    batchSize: B,
    gradAccum,
    steps: 10,
    seed: 5,
  });

/** The first `n` items of a stream. */
async function take(it: AsyncIterable<TrainBatch>, n: number): Promise<TrainBatch[]> {
  const out: TrainBatch[] = [];
  for await (const x of it) {
    out.push(x);
    if (out.length === n) break;
  }
  return out;
}
const key = (b: PackedBatch) =>
  Buffer.from(b.inputIds.buffer, b.inputIds.byteOffset, b.inputIds.byteLength).toString('base64');

describe('shardTrainData with ranks', () => {
  it('world size 2 (A=1) deals the micro-batches of world size 1 (A=2), with equal cursors per step', async () => {
    const steps = Math.ceil((rows / (2 * B)) * 1.5); // past the end of the first epoch
    const one = await take(shardTrainData(cfg(2)).train(null), steps * 2);
    const ranks = await Promise.all(
      [0, 1].map((rank) => take(shardTrainData(cfg(1), { rank, worldSize: 2 }).train(null), steps)),
    );
    for (let s = 0; s < steps; s++) {
      for (const rank of [0, 1]) {
        expect(key(ranks[rank]![s]!.batch), `step ${s}, rank ${rank}`).toBe(key(one[2 * s + rank]!.batch));
        expect(ranks[rank]![s]!.cursor).toEqual(one[2 * s + 1]!.cursor);
      }
      expect(ranks[0]![s]!.batch.batch).toBe(B);
    }
    // the ranks' rows differ (they split the step), and the order is shuffled, not row-id order
    expect(key(ranks[0]![0]!.batch)).not.toBe(key(ranks[1]![0]!.batch));
    // a cursor saved at world size 2 resumes at world size 1 where the uninterrupted stream goes on
    const resumed = await take(shardTrainData(cfg(2)).train(ranks[0]![3]!.cursor), 4);
    expect(resumed.map((b) => key(b.batch))).toEqual(one.slice(8, 12).map((b) => key(b.batch)));
  }, 60_000);
});
