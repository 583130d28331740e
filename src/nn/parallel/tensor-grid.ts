// Ranks in a data-parallel x tensor-parallel grid, Megatron's order: rank = dpRank * tp + tpRank, so
// the ranks of one TP group (which exchange activations every sublayer) are neighbours. Each rank
// joins two collectives: its TP group (same dpRank) and its DP group (same tpRank, averaging
// gradients). For worker threads, one thread group per TP group and one per DP group.
import type { Worker } from 'node:worker_threads';
import type { Collective } from '../../runtime/collectives/collective.ts';
import {
  createThreadGroup,
  threadCollective,
  type ThreadGroupOptions,
  type ThreadHandle,
} from '../../runtime/collectives/thread-transport.ts';

export interface GridPosition {
  rank: number;
  tpRank: number;
  dpRank: number;
  /** the global ranks of this rank's TP group, by tpRank */
  tpGroup: number[];
  /** the global ranks of this rank's DP group, by dpRank */
  dpGroup: number[];
}

/** Where global rank `rank` sits in a dp x tp grid. */
export function gridPosition(rank: number, tp: number, dp: number): GridPosition {
  if (!(Number.isInteger(tp) && tp >= 1 && Number.isInteger(dp) && dp >= 1))
    throw new Error(`gridPosition: tp ${tp} and dp ${dp} must be integers >= 1`);
  if (!(Number.isInteger(rank) && rank >= 0 && rank < tp * dp))
    throw new Error(`gridPosition: rank ${rank} is outside the ${dp} x ${tp} grid [0, ${tp * dp})`);
  const tpRank = rank % tp;
  const dpRank = Math.floor(rank / tp);
  return {
    rank,
    tpRank,
    dpRank,
    tpGroup: Array.from({ length: tp }, (_, t) => dpRank * tp + t),
    dpGroup: Array.from({ length: dp }, (_, d) => d * tp + tpRank),
  };
}

/** What one rank's thread needs (structured-cloneable: give it as workerData). */
export interface GridThreadHandles {
  tp: number;
  dp: number;
  rank: number;
  tpHandle: ThreadHandle;
  dpHandle: ThreadHandle;
}

export interface GridThreadGroups {
  /** by global rank */
  handles: GridThreadHandles[];
  /** Fails every group when `worker` (global rank `rank`) exits before closing its collectives. */
  watch(worker: Worker, rank: number): void;
  abort(err: Error): void;
}

/** The shared memory of a dp x tp grid of worker threads, made on the thread that starts them. */
export function createGridThreadGroups(tp: number, dp: number, opts: ThreadGroupOptions = {}): GridThreadGroups {
  const tpGroups = Array.from({ length: dp }, () => createThreadGroup(tp, opts));
  const dpGroups = Array.from({ length: tp }, () => createThreadGroup(dp, opts));
  const handles = Array.from({ length: tp * dp }, (_, rank): GridThreadHandles => {
    const p = gridPosition(rank, tp, dp);
    return {
      tp,
      dp,
      rank,
      tpHandle: tpGroups[p.dpRank]!.handles[p.tpRank]!,
      dpHandle: dpGroups[p.tpRank]!.handles[p.dpRank]!,
    };
  });
  return {
    handles,
    watch: (worker, rank) => {
      const p = gridPosition(rank, tp, dp);
      tpGroups[p.dpRank]!.watch(worker, p.tpRank);
      dpGroups[p.tpRank]!.watch(worker, p.dpRank);
    },
    abort: (err) => {
      for (const g of [...tpGroups, ...dpGroups]) g.abort(err);
    },
  };
}

/** A rank's two collectives, in its own thread. */
export function gridThreadCollectives(h: GridThreadHandles): { tp: Collective; dp: Collective } {
  return { tp: threadCollective(h.tpHandle), dp: threadCollective(h.dpHandle) };
}
