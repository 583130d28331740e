// Point-to-point sends between adjacent pipeline stages, and the groups a dp x pp grid of ranks needs.
// A ring collective of two ranks carries one direction: broadcast from rank r sends r's bytes to the
// other (its right neighbour in a ring of two), so `send` is broadcast(root = me) and `recv` is
// broadcast(root = peer). Each direction gets its own two-rank group (activations s -> s+1, their
// gradients s+1 -> s): a collective runs its operations in call order and both ends must call them in
// the same order, which holds for each direction alone (micro-batches in order) but not for the two
// interleaved (under 1F1B stage s sends activation m+1 before it takes gradient m, while stage s+1
// sends gradient m before it takes activation m+1). Both groups have the lower stage as rank 0, so one
// process of each pair listens (TCP) whatever the direction. Works over any transport: threads,
// processes, or one thread (memoryGroup).
import type { Collective } from '../../runtime/collectives/collective.ts';

/** One direction between two stages: the sender calls send, the receiver recv, equal lengths. */
export class TensorChannel {
  constructor(
    readonly group: Collective,
    /** the sending end's rank in `group` */
    private readonly from: number,
  ) {
    if (group.worldSize !== 2)
      throw new Error(`pipeline channel: needs a group of 2 ranks (the two stages), got ${group.worldSize}`);
  }

  /** Resolves once `data` may change again. */
  send(data: Float32Array): Promise<void> {
    if (this.group.rank !== this.from) throw new Error('pipeline channel: send called on the receiving end');
    return this.group.broadcast(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), this.from);
  }

  /** Fills `into` with the next message (the sender sent as many floats). */
  recv(into: Float32Array): Promise<void> {
    if (this.group.rank === this.from) throw new Error('pipeline channel: recv called on the sending end');
    return this.group.broadcast(new Uint8Array(into.buffer, into.byteOffset, into.byteLength), this.from);
  }
}

/** What one rank of a dp x pp grid talks over. */
export interface PipelineComms {
  stage: number;
  stages: number;
  dpRank: number;
  dp: number;
  /** activations to stage+1 and their gradients back (absent on the last stage) */
  toNext?: TensorChannel;
  fromNext?: TensorChannel;
  /** activations from stage-1 and gradients to it (absent on the first stage) */
  fromPrev?: TensorChannel;
  toPrev?: TensorChannel;
  /** all stages of this pipeline (loss, gradient norm) */
  pipe: Collective;
  /** first and last stage of this pipeline, when they differ and the head is tied (wte's gradient) */
  embedding?: Collective;
  /** this stage's replicas across data-parallel pipelines (gradient mean) */
  dpGroup: Collective;
}

/** A named group of grid ranks (rank = dpRank * stages + stage); members in group-rank order. */
export interface GridGroup {
  name: string;
  members: number[];
}

export const gridRank = (stages: number, dpRank: number, stage: number): number => dpRank * stages + stage;

/** Every group of a dp x pp grid: fwd/bwd links per adjacent pair, pipe and emb per pipeline, dp per
 * stage. Names: `fwd:d:s`, `bwd:d:s` (stages s, s+1), `pipe:d`, `emb:d`, `dp:s`. */
export function pipelineGroups(stages: number, dp: number): GridGroup[] {
  if (!Number.isInteger(stages) || stages < 1 || !Number.isInteger(dp) || dp < 1)
    throw new Error(`pipeline grid: stages and dp must be integers >= 1, got ${stages} and ${dp}`);
  const out: GridGroup[] = [];
  for (let d = 0; d < dp; d++) {
    const r = (s: number) => gridRank(stages, d, s);
    for (let s = 0; s + 1 < stages; s++) {
      out.push({ name: `fwd:${d}:${s}`, members: [r(s), r(s + 1)] });
      out.push({ name: `bwd:${d}:${s}`, members: [r(s), r(s + 1)] });
    }
    out.push({ name: `pipe:${d}`, members: Array.from({ length: stages }, (_, s) => r(s)) });
    if (stages > 1) out.push({ name: `emb:${d}`, members: [r(0), r(stages - 1)] });
  }
  for (let s = 0; s < stages; s++)
    out.push({ name: `dp:${s}`, members: Array.from({ length: dp }, (_, d) => gridRank(stages, d, s)) });
  return out;
}

/** The comms of grid rank (dpRank, stage), given its collective in each group it belongs to (by
 * group name, e.g. from pipelineGroups). `tiedHead` false needs no embedding group. */
export function pipelineComms(
  o: { stages: number; dp: number; stage: number; dpRank: number; tiedHead: boolean },
  groups: ReadonlyMap<string, Collective>,
): PipelineComms {
  const { stages, dp, stage: s, dpRank: d } = o;
  const get = (name: string): Collective => {
    const c = groups.get(name);
    if (!c) throw new Error(`pipeline comms: rank (dp ${d}, stage ${s}) was given no collective for group ${name}`);
    return c;
  };
  const comms: PipelineComms = { stage: s, stages, dpRank: d, dp, pipe: get(`pipe:${d}`), dpGroup: get(`dp:${s}`) };
  if (s + 1 < stages) {
    comms.toNext = new TensorChannel(get(`fwd:${d}:${s}`), 0);
    comms.fromNext = new TensorChannel(get(`bwd:${d}:${s}`), 1);
  }
  if (s > 0) {
    comms.fromPrev = new TensorChannel(get(`fwd:${d}:${s - 1}`), 0);
    comms.toPrev = new TensorChannel(get(`bwd:${d}:${s - 1}`), 1);
  }
  if (stages > 1 && o.tiedHead && (s === 0 || s === stages - 1)) comms.embedding = get(`emb:${d}`);
  return comms;
}

/** Every collective of `comms`, each once. */
function collectivesOf(comms: PipelineComms): Collective[] {
  const all = new Set<Collective>([comms.pipe, comms.dpGroup]);
  if (comms.embedding) all.add(comms.embedding);
  for (const ch of [comms.toNext, comms.fromNext, comms.fromPrev, comms.toPrev]) if (ch) all.add(ch.group);
  return [...all];
}

/** Closes every collective of `comms`. */
export async function closePipelineComms(comms: PipelineComms): Promise<void> {
  await Promise.all(collectivesOf(comms).map((c) => c.close()));
}

/** Fails every collective of `comms` with `reason`, waking the other ranks blocked on this one. */
export function abortPipelineComms(comms: PipelineComms, reason: Error): void {
  for (const c of collectivesOf(comms)) c.abort(reason);
}
