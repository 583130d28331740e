// A model-parallel rank's training rows: the data-parallel reader itself (operators/train/shard-data.ts
// shardTrainData, loaded by path as src/eval/registry.ts loads the JSON task: src/ never imports
// operators/) for DP replica `dpRank` of `dp`, so a step reads the same rows in the same order as a
// data-parallel run of the same global batch (dp x gradAccum x batchSize rows).
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { PackedBatch } from '../nn/objective/loss.ts';
import type { TrainConfig } from '../nn/train/train-config.ts';
import type { TrainData } from '../nn/train/trainer.ts';

export const SHARD_DATA_MODULE = fileURLToPath(new URL('../../operators/train/shard-data.ts', import.meta.url));

type ShardTrainData = (cfg: TrainConfig, dist: { rank: number; worldSize: number }) => TrainData & { seqLen: number };

export interface StepRows {
  /** this replica's gradAccum micro-batches of the step */
  micro: PackedBatch[];
  /** the data position after the whole global step (the same on every rank) */
  cursor: unknown;
}

/** This replica's micro-batches, a step at a time, from the start of the data. */
export async function* stepRows(cfg: TrainConfig, dpRank: number, dp: number): AsyncGenerator<StepRows> {
  const mod = (await import(pathToFileURL(SHARD_DATA_MODULE).href)) as { shardTrainData?: unknown };
  if (typeof mod.shardTrainData !== 'function')
    throw new Error(`${SHARD_DATA_MODULE} exports no shardTrainData(cfg, dist)`);
  const data = (mod.shardTrainData as ShardTrainData)(cfg, { rank: dpRank, worldSize: dp });
  let micro: PackedBatch[] = [];
  for await (const { batch, cursor } of data.train(null)) {
    micro.push(batch);
    if (micro.length === cfg.gradAccum) {
      yield { micro, cursor };
      micro = [];
    }
  }
}
