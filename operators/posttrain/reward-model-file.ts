// How a reward model is stored: a Gpt checkpoint directory (what flowlm train writes: state.json
// recording the model config and encoding, params.arrow) plus `score.arrow` in that same directory, an
// Arrow IPC tensor table (src/nn/checkpoint/tensor-table.ts) holding the ScalarHead's `score.weight`
// [d, 1] and `score.bias` [1]. The head is written to a temporary name, synced and renamed, then the
// directory synced, so a reader sees the whole head or none. Loading resolves a run directory to its
// latest checkpoint as loadModel does, and checks the head's shapes against the model's width. A model
// trained by the trainer with a reward head (model.rewardHead) carries score.* among its own weights: that
// head is read from there when the directory has no score.arrow.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDir } from '../../src/nn/checkpoint/durable.ts';
import { resolveCheckpointDir } from '../../src/nn/checkpoint/load.ts';
import { loadModel, type LoadedModel } from '../../src/nn/checkpoint/load-model.ts';
import { readTensorTable, writeTensorTable } from '../../src/nn/checkpoint/tensor-table.ts';
import type { NamedTensor } from '../../src/nn/checkpoint/types.ts';
import { ScalarHead } from '../../src/nn/model/scalar-head.ts';

export const REWARD_HEAD_FILE = 'score.arrow';

export interface LoadedRewardModel extends LoadedModel {
  head: ScalarHead;
}

/** Writes `head` (a reward head) as score.arrow into the checkpoint directory `dir` (a step directory,
 * or a run directory: its latest checkpoint), replacing any earlier head atomically. Returns the file. */
export async function saveRewardHead(dir: string, head: ScalarHead): Promise<string> {
  if (head.kind !== 'reward_head')
    throw new Error(`saveRewardHead: the head is a ${head.kind}; a reward model needs a reward_head (score.*)`);
  const step = await resolveCheckpointDir(dir);
  const path = join(step, REWARD_HEAD_FILE);
  const tmp = join(step, `.tmp-${REWARD_HEAD_FILE}-${randomBytes(4).toString('hex')}`);
  const values = head.getParams();
  const tensors: Array<[string, NamedTensor]> = head.specs.map((s) => [
    s.name,
    { shape: [...s.shape], values: values.get(s.name)! },
  ]);
  try {
    await writeTensorTable(tmp, tensors);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(step);
  return path;
}

/** The Gpt of the checkpoint `dir` and its reward head: from score.arrow, or, for a model trained with
 * `flowlm train` (objective 'reward', model.rewardHead), from the score.* parameters in its own weights.
 * The caller disposes both. */
export async function loadRewardModel(dir: string): Promise<LoadedRewardModel> {
  const step = await resolveCheckpointDir(dir);
  const path = join(step, REWARD_HEAD_FILE);
  if (!existsSync(path)) {
    const loaded = await loadModel(step);
    const w = loaded.model.params.get('score.weight');
    const b = loaded.model.params.get('score.bias');
    if (!w || !b) {
      loaded.model.dispose();
      throw new Error(
        `loadRewardModel: ${step} has no ${REWARD_HEAD_FILE} and its model has no reward head (score.*); a reward ` +
          'model is a Gpt checkpoint plus its score head (train one with objective "reward" and model.rewardHead, ' +
          'or write the head with saveRewardHead)',
      );
    }
    const values = new Map([
      ['score.weight', Float32Array.from(w.dataSync() as Float32Array)],
      ['score.bias', Float32Array.from(b.dataSync() as Float32Array)],
    ]);
    return { ...loaded, head: new ScalarHead(loaded.model.config.dModel, { kind: 'reward_head', values }) };
  }
  const tensors = new Map(readTensorTable(await readFile(path), path));
  const loaded = await loadModel(step);
  const d = loaded.model.config.dModel;
  const want: Record<string, number[]> = { 'score.weight': [d, 1], 'score.bias': [1] };
  const fail = (msg: string): never => {
    loaded.model.dispose();
    throw new Error(`loadRewardModel: ${path}: ${msg}; write the head of a model of this width with saveRewardHead`);
  };
  for (const [name, shape] of Object.entries(want)) {
    const t = tensors.get(name);
    if (!t) fail(`no tensor ${name} (it has ${[...tensors.keys()].join(', ')})`);
    else if (t.shape.join(',') !== shape.join(','))
      fail(`${name} has shape [${t.shape.join(', ')}], the model (dModel ${d}) needs [${shape.join(', ')}]`);
  }
  if (tensors.size !== 2) fail(`expected only score.weight and score.bias, found ${[...tensors.keys()].join(', ')}`);
  const values = new Map([...tensors].map(([n, t]) => [n, t.values]));
  return { ...loaded, head: new ScalarHead(d, { kind: 'reward_head', values }) };
}
