// The physical plan `flowlm plan` prints: what runs where, how many copies, what connects them and the
// budgets that bound it, for a training pipeline (replicas per device) or a data pipeline (worker
// parallelism and credit budgets). Plain data: `--json` prints it as is.
import type { Device } from './devices.ts';

export interface PlanNode {
  id: string;
  /** what the node does: an operator id, or a training stage */
  op: string;
  /** copies running at once: replicas across ranks (training), or worker threads (data) */
  replicas: number;
  /** the ranks that run it (training): every rank, or rank 0 alone */
  ranks?: number[];
  /** where the copies run */
  devices: string[];
  detail: string;
}

export interface PlanEdge {
  from: string;
  to: string;
  /** 1:1, fan-out (one of several outputs of `from`), fan-in (one of several inputs of `to`), or a
   * training-stage relation (per-rank, all-ranks, rank-0) */
  kind: string;
}

export interface TrainBudgets {
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
}

export interface TrainPlan {
  kind: 'train';
  file: string;
  runDir: string;
  worldSize: number;
  devices: Device[];
  /** how the gradients travel between ranks */
  transport: 'none' | 'thread' | 'socket';
  zero: boolean;
  nodes: PlanNode[];
  edges: PlanEdge[];
  budgets: TrainBudgets;
  notes: string[];
}

export interface SourceBudget { source: string; maxInFlight: number; maxInFlightBytes: number }

export interface DataPlan {
  kind: 'data';
  file: string;
  name: string;
  nodes: PlanNode[];
  edges: PlanEdge[];
  /** the pipeline's budget and each source's (the credits it may have between itself and the sinks) */
  budgets: { pipeline: { maxInFlight: number; maxInFlightBytes: number }; sources: SourceBudget[]; workerThreads: number };
  notes: string[];
}

export type PhysicalPlan = TrainPlan | DataPlan;
