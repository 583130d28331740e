// Shards as the trainer's data (src/nn/train/trainer.ts TrainData): training micro-batches from a
// resumable ShardDataset stream (endless, reshuffled each epoch), validation from a val shard
// directory or from rows held out of the train shards (`holdoutRows` row ids spread evenly over the
// data, every stride-th one, which the training stream skips: a held-out set drawn from every part
// of the corpus, not its last document). Rows are read one at a time so every micro-batch has exactly batchSize
// rows and the cursor after it is an exact resume point. Rows may be cropped to a shorter seqLen.
// Data parallel (`dist`): a global step takes worldSize * gradAccum * batchSize rows of the global order
// and rank r trains on micro-batches [r * gradAccum, (r + 1) * gradAccum) of it; the cursor after a step
// is the global position after all of its rows, the same on every rank, so a checkpoint resumes at any
// world size with the same global batch. (Each rank reads the others' rows to skip them: rows are small.)
import type { RecordBatch } from 'apache-arrow';
import { ShardDataset } from '../shard/dataset.ts';
import type { DatasetCursor } from '../shard/cursor.ts';
import { FlowError } from '../../src/core/errors.ts';
import type { Dist } from '../../src/nn/train/dist.ts';
import type { PackedBatch } from '../../src/nn/objective/loss.ts';
import { packedOf, packedRows } from '../../src/nn/train/packed-batch.ts';
import type { Packed } from '../../src/schema/columns.ts';
import type { TrainConfig } from '../../src/nn/train/train-config.ts';
import type { TrainData } from '../../src/nn/train/trainer.ts';

const OP = 'pipelines/train-data';

/** Row 0 of a gathered one-row batch: its token ids, and its doc_starts and attention_mask when the
 * shards have them (document masking, padding weighed 0 in the loss). */
function rowIds(batch: RecordBatch): PackedBatch {
  if (!batch.getChild('input_ids'))
    throw new FlowError(
      OP,
      `shards have no input_ids column (columns: ${batch.schema.names.join(', ')}); prepare them with flowlm prep --format ipc`,
    );
  return packedOf(batch as RecordBatch<Packed>);
}

/** Rows of `width` = seqLen + 1 ids (cropped from longer ones) as one packed batch. */
const packed = (rows: PackedBatch[], seqLen: number): PackedBatch => packedRows(rows, seqLen);

export interface ShardTrainData extends TrainData {
  /** input tokens per row after cropping */
  seqLen: number;
  /** rows training draws from (train shards less the held-out rows) */
  trainRows: number;
  valRows: number;
  /** one pass over the training rows in row-id order (token statistics such as the unigram baseline) */
  trainOnce(): AsyncIterable<PackedBatch>;
}

export function shardTrainData(cfg: TrainConfig, dist?: Pick<Dist, 'rank' | 'worldSize'>): ShardTrainData {
  const open = (dir: string, shuffle: boolean, epochs: number) =>
    new ShardDataset(dir, { batchRows: 1, seed: cfg.seed, shuffle, epochs }, OP);
  const probe = open(cfg.data.train, false, 1);
  const { encoding, seqLen: shardSeqLen } = probe.manifest;
  if (encoding && encoding !== cfg.encoding)
    throw new FlowError(
      OP,
      `${cfg.data.train} was tokenized with ${encoding}, the config says encoding ${cfg.encoding}; set encoding ` +
        `(and model.vocabSize) to match`,
    );
  if (shardSeqLen === null)
    throw new FlowError(
      OP,
      `${cfg.data.train} holds unpacked rows (no seqLen); prepare packed shards with flowlm prep --format ipc`,
    );
  const seqLen = cfg.data.seqLen ?? shardSeqLen;
  if (seqLen > shardSeqLen)
    throw new FlowError(OP, `data.seqLen ${seqLen} is longer than the shards' rows (${shardSeqLen} tokens)`);
  const rows = probe.rowsPerEpoch;
  const holdout = cfg.data.val ? 0 : Math.min(cfg.data.holdoutRows, rows);
  const trainRows = rows - holdout;
  const stride = holdout > 0 ? Math.floor(rows / holdout) : 0;
  const heldOut = (sample: number) => stride > 0 && sample % stride === 0 && sample / stride < holdout;
  if (trainRows < cfg.batchSize)
    throw new FlowError(
      OP,
      `${cfg.data.train} has ${trainRows} training rows, fewer than one batch of ${cfg.batchSize}`,
    );

  async function* batchesOf(ds: ShardDataset, from: DatasetCursor | undefined, keep: (sample: number) => boolean) {
    let rowsIn: PackedBatch[] = [];
    for await (const { batch, samples, cursor } of ds.iterate(from)) {
      if (!keep(samples[0]!)) continue;
      rowsIn.push(rowIds(batch));
      if (rowsIn.length === cfg.batchSize) {
        yield { batch: packed(rowsIn, seqLen), cursor };
        rowsIn = [];
      }
    }
    if (rowsIn.length > 0) yield { batch: packed(rowsIn, seqLen), cursor: ds.cursor() };
  }

  /** This rank's micro-batches of each global step, all yielded when the step's last row is read,
   * with the cursor after it. */
  async function* trainBatches(from: DatasetCursor | undefined) {
    const { rank, worldSize } = dist ?? { rank: 0, worldSize: 1 };
    const mine = cfg.gradAccum * cfg.batchSize;
    const group = worldSize * mine;
    const [lo, hi] = [rank * mine, (rank + 1) * mine];
    const ds = open(cfg.data.train, cfg.data.shuffle, Infinity);
    let k = 0; // kept rows of the current global step read so far
    let rowsIn: PackedBatch[] = [];
    let micro: PackedBatch[] = [];
    for await (const { batch, samples, cursor } of ds.iterate(from)) {
      if (heldOut(samples[0]!)) continue;
      if (k >= lo && k < hi) {
        rowsIn.push(rowIds(batch));
        if (rowsIn.length === cfg.batchSize) {
          micro.push(packed(rowsIn, seqLen));
          rowsIn = [];
        }
      }
      if (++k === group) {
        for (const b of micro) yield { batch: b, cursor };
        micro = [];
        k = 0;
      }
    }
  }

  async function* val(): AsyncGenerator<PackedBatch> {
    if (cfg.data.val) {
      for await (const b of batchesOf(open(cfg.data.val, false, 1), undefined, () => true)) yield b.batch;
      return;
    }
    // unshuffled, position = row id: seek to each held-out row
    const ds = open(cfg.data.train, false, 1);
    let rowsIn: PackedBatch[] = [];
    for (let k = 0; k < holdout; k++) {
      for await (const { batch } of ds.iterate({ epoch: 0, index: k * stride })) {
        rowsIn.push(rowIds(batch));
        break;
      }
      if (rowsIn.length === cfg.batchSize || k === holdout - 1) {
        yield packed(rowsIn, seqLen);
        rowsIn = [];
      }
    }
  }

  async function* trainOnce(): AsyncGenerator<PackedBatch> {
    const ds = new ShardDataset(cfg.data.train, { batchRows: 1, shuffle: false, epochs: 1 }, OP);
    for await (const b of batchesOf(ds, undefined, (s) => !heldOut(s))) yield b.batch;
  }

  return {
    trainOnce,
    seqLen,
    trainRows,
    valRows: cfg.data.val ? open(cfg.data.val, false, 1).rowsPerEpoch : holdout,
    train: (cursor) => trainBatches((cursor ?? undefined) as DatasetCursor | undefined),
    val: cfg.data.val || holdout > 0 ? val : undefined,
  };
}
