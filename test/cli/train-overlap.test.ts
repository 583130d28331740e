// `flowlm train --devices cpu:2 --set trainer.overlapComm=true`: the training graph with each gradient
// bucket all-reduced while the backward pass runs (train/forward-backward reduces, train/all-reduce
// passes the step on; a graph that ignored the option would fail, replica.forwardBackward refuses it)
// gives the run without it bit for bit: the same losses at every step and the same
// final parameters. The reference is the real run of the same command without the option.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeTrainShards } from '../fixtures/train-shards.ts';
import { flowlm, lastJson } from './spawn.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-train-overlap-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const losses = (runDir: string): number[] =>
  readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { split: string; name: string; value: number })
    .filter((r) => r.split === 'train' && r.name === 'loss')
    .map((r) => r.value);

describe('flowlm train with trainer.overlapComm', () => {
  it('on cpu:2 gives the losses and final parameters of the run without it, bit for bit', async () => {
    const shards = join(tmp, 'shards');
    await writeTrainShards(shards, 4, 32, 64);
    const run = (name: string, more: string[]) => {
      const runDir = join(tmp, name);
      const sets = [
        'model.preset="micro"',
        'model.vocabSize=50257',
        'model.contextLength=32',
        'model.dModel=32',
        'model.dropout=0.1',
        `data.dir=${shards}`,
        'data.seqLen=16',
        'data.holdoutRows=16',
        'trainer.batchSize=4',
        'trainer.steps=3',
        'trainer.checkpointEvery=100',
        'trainer.evalEvery=0',
        'trainer.evalBatches=1',
        `trainer.runDir=${runDir}`,
        ...more,
      ];
      return flowlm(
        ['train', 'pipelines/train-tiny.ts', '--devices', 'cpu:2', '--json', ...sets.flatMap((s) => ['--set', s])],
        {
          env: { FLOWLM_HEAD_THREAD: '0' },
        },
      ).then((r) => ({ ...r, runDir }));
    };
    const [plain, overlap] = await Promise.all([run('plain', []), run('overlap', ['trainer.overlapComm=true'])]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(overlap.code, overlap.stderr).toBe(0);
    expect(losses(plain.runDir)).toHaveLength(3);
    expect(losses(overlap.runDir)).toEqual(losses(plain.runDir));
    const sha = lastJson(plain.stdout).paramsSha256;
    expect(sha).toMatch(/^[0-9a-f]{64}$/);
    expect(lastJson(overlap.stdout).paramsSha256).toBe(sha);
  }, 90_000);
});
