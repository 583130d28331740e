// The physical plan (DESIGN.md §9, Flink's JobGraph): what runs where, how many copies, what connects
// them and the budgets that bound it — for every spec, data or training. The scheduler makes it from
// the validated spec and the devices; `flowlm plan` prints it, and the executor runs exactly this
// object (each rank compiles the graph from its nodes: ranks, worker threads, credits). Plain data:
// `--json` prints it as is, and a run's summary records the one it ran.
import type { Placement } from '../core/resource.ts';
import type { Device } from './devices.ts';

export interface PlanNode {
  id: string;
  /** the operator id */
  op: string;
  kind: 'source' | 'transform' | 'sink';
  placement: Placement;
  /** the ranks that run it; on the others a transform passes batches on and a sink drops them */
  ranks: number[];
  /** worker threads that run its kernel on each of those ranks (0: inline on the rank's thread) */
  workers: number;
  /** copies running at once in the whole run */
  replicas: number;
  /** where the copies run */
  devices: string[];
  inputs: string[];
  /** the credits it issues (a source, or a transform that opens its own credit scope) */
  credits?: { maxInFlight: number; maxInFlightBytes: number };
  /** the resources its config names */
  uses: string[];
  /** sinks that must have finished before this source starts */
  after?: string[];
  detail: string;
}

export interface PlanEdge {
  from: string;
  to: string;
  /** 1:1, fan-out, fan-in, or fan-out+fan-in; with ranks: per-rank (a replica's own chain), to-rank-0 */
  kind: string;
}

export interface PlanResource {
  name: string;
  kind: string;
  /** the ranks that build it (every rank: one instance per replica) */
  ranks: number[];
  detail: string;
}

/** Batch, gradient-traffic and memory budgets of a training graph (its nn/trainer resource). */
export interface TrainBudgets {
  trainer: string;
  microBatchRows: number;
  gradAccum: number;
  /** rows per optimizer step across all ranks: worldSize x gradAccum x microBatchRows */
  globalBatchRows: number;
  seqLen: number;
  tokensPerStep: number;
  params: number;
  /** float32 gradients each rank all-reduces per step */
  gradientBytesPerStep: number;
  /** bytes each rank sends per step in a ring all-reduce: 2 (W-1)/W x gradient bytes */
  ringBytesSentPerRank: number;
  /** estimated memory of one replica, in bytes */
  perReplica: { params: number; grads: number; moments: number; activations: number; total: number };
  zero: boolean;
  runDir: string;
}

export interface SourceBudget {
  source: string;
  maxInFlight: number;
  maxInFlightBytes: number;
}

export interface PhysicalPlan {
  kind: 'plan';
  file: string;
  name: string;
  /** ranks of the run: data-parallel replicas of the graph's replicated part */
  worldSize: number;
  devices: Device[];
  /** how ranks exchange gradients */
  transport: 'none' | 'thread' | 'socket';
  resources: PlanResource[];
  nodes: PlanNode[];
  edges: PlanEdge[];
  budgets: {
    pipeline: { maxInFlight: number; maxInFlightBytes: number };
    /** each credit scope: what it may have between itself and the sinks */
    sources: SourceBudget[];
    workerThreads: number;
    train?: TrainBudgets;
  };
  notes: string[];
}
