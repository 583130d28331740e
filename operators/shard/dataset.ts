// The streaming dataset training reads: a shard directory as an endless-or-bounded stream of samples
// in a global order fixed by (seed, epoch) (see order.ts), dealt to ranks. Global positions run on
// across epochs (position = epoch * rowsPerEpoch + index). A global step covers worldSize * batchRows
// positions; rank r takes positions step + r, step + r + worldSize, ... so the ranks' batches of one
// step together are exactly that stretch of the global order, whatever the world size. The cursor is
// the first position not yet consumed: resuming from it (at any world size) continues the same order.
// Memory: the shard being read plus the next one (prefetched), and the batch being built.
import { resolve } from 'node:path';
import type { RecordBatch, Schema, TypeMap } from 'apache-arrow';
import { FlowError } from '../../src/core/errors.ts';
import { DatasetCursor } from './cursor.ts';
import { gatherRows, type Pick } from './gather.ts';
import { loadShard, type LoadedShard } from './load-shard.ts';
import { canonicalJson, readManifest, schemaFromManifest, sha256Hex, type Manifest } from './manifest.ts';
import { EpochOrder } from './order.ts';

export interface DatasetOptions {
  /** rows per batch this rank yields (the micro-batch) */
  batchRows: number;
  seed?: number;
  /** false: shards and rows in manifest order every epoch */
  shuffle?: boolean;
  rank?: number;
  worldSize?: number;
  /** the stream ends with epoch `epochs - 1` (Infinity: never) */
  epochs?: number;
  /** check each shard's sha256 against the manifest when it is loaded (default true) */
  verify?: boolean;
}

export interface DatasetBatch<T extends TypeMap> {
  batch: RecordBatch<T>;
  /** which samples the rows are: dataset row ids (the shard's firstRow + the row within the shard) */
  samples: number[];
  /** resume here to get the batches after this one */
  cursor: DatasetCursor;
}

export class ShardDataset<T extends TypeMap = TypeMap> {
  readonly dir: string;
  readonly manifest: Manifest;
  readonly schema: Schema<T>;
  readonly rowsPerEpoch: number;
  /** identifies the data (hash of the shards' sha256): a cursor records it */
  readonly id: string;
  readonly options: Required<DatasetOptions>;
  /** shard files read so far, and the most held in memory at once (current plus prefetched) */
  readonly stats = { loads: 0, peakHeld: 0 };
  private position = 0;
  private readonly orders = new Map<number, EpochOrder>();
  private readonly loading = new Map<number, Promise<LoadedShard>>();
  private current?: LoadedShard;

  constructor(
    dir: string,
    options: DatasetOptions,
    private readonly operator = 'shard/read-shards',
  ) {
    this.dir = resolve(dir);
    this.options = { seed: 0, shuffle: true, rank: 0, worldSize: 1, epochs: 1, verify: true, ...options };
    const { rank, worldSize, batchRows, epochs, seed } = this.options;
    const bad =
      !Number.isInteger(worldSize) || worldSize < 1
        ? `worldSize must be an integer >= 1 (got ${worldSize})`
        : !Number.isInteger(rank) || rank < 0 || rank >= worldSize
          ? `rank must be an integer in [0, worldSize) = [0, ${worldSize}) (got ${rank})`
          : !Number.isInteger(batchRows) || batchRows < 1
            ? `batchRows must be an integer >= 1 (got ${batchRows})`
            : !(epochs >= 1) || (Number.isFinite(epochs) && !Number.isInteger(epochs))
              ? `epochs must be an integer >= 1 or Infinity (got ${epochs})`
              : !Number.isSafeInteger(seed)
                ? `seed must be an integer (got ${seed})`
                : undefined;
    if (bad) throw new FlowError(operator, bad);
    this.manifest = readManifest(this.dir, operator);
    if (this.manifest.kind !== 'ipc' && this.manifest.kind !== 'parquet')
      throw new FlowError(operator, `unknown shard kind ${String(this.manifest.kind)}`);
    this.schema = schemaFromManifest(this.manifest) as Schema<T>;
    this.rowsPerEpoch = this.manifest.rows;
    this.id = sha256Hex(canonicalJson(this.manifest.shards.map((s) => s.sha256))).slice(0, 16);
  }

  /** Where the stream stands: after the last batch `iterate` yielded (or where it was seeked to). */
  cursor(): DatasetCursor {
    const n = this.rowsPerEpoch;
    const epoch = n === 0 ? 0 : Math.floor(this.position / n);
    return {
      epoch,
      index: this.position - epoch * n,
      seed: this.options.seed,
      shuffle: this.options.shuffle,
      dataset: this.id,
    };
  }

  /** Moves the stream to `cursor` (checked against this dataset and order). */
  seek(cursor: DatasetCursor): void {
    const c = DatasetCursor.safeParse(cursor);
    if (!c.success)
      throw new FlowError(
        this.operator,
        `not a dataset cursor: ${c.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    const { epoch, index, seed, shuffle, dataset } = c.data;
    const problem =
      dataset !== undefined && dataset !== this.id
        ? `the cursor is for dataset ${dataset}, this is ${this.id} (${this.dir})`
        : seed !== undefined && seed !== this.options.seed
          ? `the cursor was saved with seed ${seed}, this stream has seed ${this.options.seed}`
          : shuffle !== undefined && shuffle !== this.options.shuffle
            ? `the cursor was saved with shuffle ${shuffle}, this stream has shuffle ${this.options.shuffle}`
            : index > this.rowsPerEpoch
              ? `cursor index ${index} is past the epoch's ${this.rowsPerEpoch} samples`
              : undefined;
    if (problem)
      throw new FlowError(
        this.operator,
        `cannot resume: ${problem}; resume with the settings the cursor was saved with`,
      );
    this.position = epoch * this.rowsPerEpoch + index;
  }

  /** The stream from `from` (default: the current cursor) to the end of the last epoch. */
  async *iterate(from?: DatasetCursor): AsyncGenerator<DatasetBatch<T>> {
    if (from) this.seek(from);
    const { rank, worldSize, batchRows, epochs } = this.options;
    const n = this.rowsPerEpoch;
    if (n === 0) return;
    const end = epochs * n;
    while (this.position < end) {
      const stepEnd = Math.min(this.position + worldSize * batchRows, end);
      const picks: Pick[] = [];
      const samples: number[] = [];
      for (let p = this.position + rank; p < stepEnd; p += worldSize) {
        const epoch = Math.floor(p / n);
        const { shard, row } = this.order(epoch).at(p - epoch * n);
        const loaded = this.current?.index === shard ? this.current : await this.load(shard, epoch);
        picks.push(loaded.locate(row));
        samples.push(this.manifest.shards[shard]!.firstRow + row);
      }
      this.position = stepEnd;
      // in the last, short step a rank may have no sample left: the others have them
      if (picks.length > 0)
        yield { batch: gatherRows(this.schema, picks) as RecordBatch<T>, samples, cursor: this.cursor() };
    }
  }

  /** The dataset row id at global position `index` of `epoch` (to inspect or test the order). */
  sampleAt(epoch: number, index: number): number {
    const { shard, row } = this.order(epoch).at(index);
    return this.manifest.shards[shard]!.firstRow + row;
  }

  /** One epoch's order (the two most recently made are kept). */
  order(epoch: number): EpochOrder {
    let o = this.orders.get(epoch);
    if (!o) {
      o = new EpochOrder(
        this.manifest.shards.map((s) => s.rows),
        this.options.seed,
        epoch,
        this.options.shuffle,
      );
      this.orders.set(epoch, o);
      while (this.orders.size > 2) this.orders.delete(Math.min(...[...this.orders.keys()].filter((e) => e !== epoch)));
    }
    return o;
  }

  /** Makes `shard` current, drops the one before, and starts loading the one after it. */
  private async load(shard: number, epoch: number): Promise<LoadedShard> {
    const loaded = await this.fetch(shard);
    for (const k of this.loading.keys()) if (k !== shard) this.loading.delete(k);
    this.current = loaded;
    const next =
      this.order(epoch).after(shard) ?? (epoch + 1 < this.options.epochs ? this.order(epoch + 1).shards[0] : undefined);
    if (next !== undefined && next !== shard) this.fetch(next).catch(() => undefined); // its error surfaces when it is used
    return loaded;
  }

  private fetch(shard: number): Promise<LoadedShard> {
    let p = this.loading.get(shard);
    if (!p) {
      p = loadShard(
        this.operator,
        this.dir,
        shard,
        this.manifest.shards[shard]!,
        this.manifest.kind,
        this.options.verify,
      );
      this.loading.set(shard, p);
      this.stats.loads++;
      this.stats.peakHeld = Math.max(this.stats.peakHeld, this.loading.size);
      p.catch(() => this.loading.delete(shard));
    }
    return p;
  }
}
