// The collective operations data-parallel training needs, whatever carries the bytes: worker threads
// over SharedArrayBuffer (thread-transport.ts) or processes over TCP (socket-transport.ts). Every
// operation is called by all ranks in the same order (like NCCL / torch.distributed). Results are
// bit-identical on every rank: each element is reduced once, in a fixed order, by the rank that owns
// its chunk, and the bytes are then copied to the others (ring all-reduce = reduce-scatter + all-gather).

import type { CollectiveOptions } from './bf16-wire.ts';

export type ReduceOp = 'sum' | 'mean';

export interface Collective {
  readonly rank: number;
  readonly worldSize: number;
  /** In place: afterwards every rank holds the elementwise sum (or mean) of all ranks' `data`.
   * `opts.wire` 'bf16' sends half the bytes and rounds (bf16-wire.ts); results stay bit-identical. */
  allReduce(data: Float32Array, op?: ReduceOp, opts?: CollectiveOptions): Promise<void>;
  /** In place: afterwards rank r's shard (`shardRange(data.length, r, worldSize)`) holds the reduced
   * values; the rest of `data` is unspecified. */
  reduceScatter(data: Float32Array, op?: ReduceOp, opts?: CollectiveOptions): Promise<void>;
  /** In place: each rank contributes its own shard of `data`; afterwards every rank holds all shards. */
  allGather(data: Float32Array): Promise<void>;
  /** In place: afterwards every rank holds `root`'s bytes. */
  broadcast(data: Uint8Array, root: number): Promise<void>;
  barrier(): Promise<void>;
  /** Wakes every rank blocked in an operation with this error (a peer died, the run is stopping). */
  abort(reason: Error): void;
  close(): Promise<void>;
}

/** The [start, end) element range rank `rank` owns of an array of `length` elements: contiguous,
 * sizes differing by at most one, earlier ranks the larger. */
export function shardRange(length: number, rank: number, worldSize: number): [number, number] {
  const base = Math.floor(length / worldSize);
  const extra = length % worldSize;
  const start = rank * base + Math.min(rank, extra);
  return [start, start + base + (rank < extra ? 1 : 0)];
}

/** A collective failed: names the rank that failed or was lost, and the operation. */
export class CollectiveError extends Error {
  override readonly name = 'CollectiveError';
  constructor(
    readonly failedRank: number | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** World size 1: every operation is the identity (mean of one value is the value). */
export function localCollective(): Collective {
  return {
    rank: 0,
    worldSize: 1,
    async allReduce() {},
    async reduceScatter() {},
    async allGather() {},
    async broadcast() {},
    async barrier() {},
    abort() {},
    async close() {},
  };
}
