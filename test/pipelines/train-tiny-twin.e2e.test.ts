// pipelines/train-tiny.ts and its JSON twin pipelines/train-tiny.json are the same graph: over 10 steps
// they give bit-identical losses, on one device and on two (data parallel), and each run's summary
// records the physical plan it ran, the one `flowlm plan --json` prints for it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowlm, lastJson } from '../cli/spawn.ts';
import { writeTrainShards } from '../fixtures/train-shards.ts';

let tmp: string;
let shards: string;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'flowlm-twin-'));
  shards = join(tmp, 'shards');
  await writeTrainShards(shards, 8, 32, 64);
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sets = (runDir: string) =>
  [
    'model.preset="micro"',
    'model.vocabSize=50257',
    'model.dModel=16',
    'model.nHead=2',
    `data.dir=${shards}`,
    'data.seqLen=32',
    'data.holdoutRows=16',
    'trainer.batchSize=4',
    'trainer.steps=10',
    'trainer.evalEvery=5',
    'trainer.evalBatches=2',
    'trainer.checkpointEvery=5',
    `trainer.runDir=${runDir}`,
  ].flatMap((s) => ['--set', s]);

/** The run's training losses as written to metrics.jsonl (each double exactly as computed). */
const losses = (runDir: string) =>
  readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { split: string; name: string; value: number })
    .filter((m) => m.split === 'train' && m.name === 'loss')
    .map((m) => m.value);

const FILES = ['pipelines/train-tiny.ts', 'pipelines/train-tiny.json'] as const;

/** Plans and trains `file` on `devices` (the plan printed while the run trains); returns the run's losses. */
async function planAndTrain(file: string, devices: string): Promise<number[]> {
  const runDir = join(tmp, `${devices}-${file.endsWith('json') ? 'json' : 'ts'}`);
  const [plan, r] = await Promise.all([
    flowlm(['plan', file, '--devices', devices, ...sets(runDir), '--json']),
    flowlm(['train', file, '--devices', devices, ...sets(runDir), '--json']),
  ]);
  expect(plan.code, plan.stderr).toBe(0);
  expect(r.code, r.stderr).toBe(0);
  const s = lastJson(r.stdout);
  expect(s.step).toBe(10);
  expect(s.plan).toEqual(JSON.parse(plan.stdout));
  return losses(runDir);
}

describe('train-tiny: the TypeScript spec and its JSON twin', () => {
  for (const devices of ['cpu:1', 'cpu:2']) {
    it(`give bit-identical losses over 10 steps on ${devices}, and run the plan flowlm plan prints`, async () => {
      // one device: the two runs side by side, a core each; two devices: one after the other
      const [ts, json] =
        devices === 'cpu:1'
          ? await Promise.all(FILES.map((f) => planAndTrain(f, devices)))
          : [await planAndTrain(FILES[0], devices), await planAndTrain(FILES[1], devices)];
      expect(ts).toHaveLength(10);
      expect(json).toEqual(ts);
      expect(ts!.at(-1)!).toBeLessThan(ts![0]!); // it learned something
    }, 400_000);
  }
});
