// The groups of a dp x pp grid of worker threads: the starting thread makes one SharedArrayBuffer
// thread group per group of pipelineGroups and gives each rank's thread its handles by group name;
// each thread turns them into its PipelineComms.
import type { Worker } from 'node:worker_threads';
import type { Collective } from '../../runtime/collectives/collective.ts';
import {
  createThreadGroup,
  threadCollective,
  type ThreadGroup,
  type ThreadHandle,
} from '../../runtime/collectives/thread-transport.ts';
import { gridRank, pipelineComms, pipelineGroups, type PipelineComms } from './pipeline-p2p.ts';
export { closePipelineComms } from './pipeline-p2p.ts';

/** One rank's handles, by group name (structured-clonable: pass it in workerData). */
export type PipelineThreadHandles = Record<string, ThreadHandle>;

export interface PipelineThreadGrid {
  /** by grid rank (dpRank * stages + stage) */
  handles: PipelineThreadHandles[];
  /** watches a rank's thread: its exit before closing fails every group it is in */
  watch(worker: Worker, rank: number): void;
  abort(err: Error): void;
}

export function createPipelineThreadGrid(stages: number, dp: number): PipelineThreadGrid {
  const groups = pipelineGroups(stages, dp);
  const handles: PipelineThreadHandles[] = Array.from({ length: stages * dp }, () => ({}));
  const made: { group: ThreadGroup; members: number[] }[] = [];
  for (const g of groups) {
    const group = createThreadGroup(g.members.length);
    g.members.forEach((rank, i) => (handles[rank]![g.name] = group.handles[i]!));
    made.push({ group, members: g.members });
  }
  return {
    handles,
    watch: (worker, rank) => {
      for (const m of made) {
        const i = m.members.indexOf(rank);
        if (i >= 0) m.group.watch(worker, i);
      }
    },
    abort: (err) => {
      for (const m of made) m.group.abort(err);
    },
  };
}

/** In the rank's thread: its comms from the handles it was given. */
export function threadPipelineComms(
  o: { stages: number; dp: number; stage: number; dpRank: number; tiedHead: boolean },
  handles: PipelineThreadHandles,
): PipelineComms {
  const expected = new Set(
    pipelineGroups(o.stages, o.dp)
      .filter((g) => g.members.includes(gridRank(o.stages, o.dpRank, o.stage)))
      .map((g) => g.name),
  );
  const groups = new Map<string, Collective>();
  for (const [name, h] of Object.entries(handles)) if (expected.has(name)) groups.set(name, threadCollective(h));
  return pipelineComms(o, groups);
}
