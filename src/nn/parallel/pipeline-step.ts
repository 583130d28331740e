// One optimizer step of a pipeline stage (1F1B over M micro-batches), composable with data
// parallelism: run the stage's schedule (receive, forward, send; receive the output's gradient,
// backward, send the input's), mean the gradients over micro-batches as train-step.ts does, sum the
// two wte copies' gradients (tied head), mean over data-parallel replicas, clip by the global norm of
// every stage's gradients (wte once) and update the stage's parameters with AdamW. Every rank returns
// the same loss (the last stage's mean over micro-batches, then over replicas) and norm.
import * as tf from '@tensorflow/tfjs';
import type { HeadTuning } from '../head/head-loss.ts';
import type { PackedBatch } from '../objective/loss.ts';
import type { AdamW } from '../optim/adamw.ts';
import { sizeOf } from '../model/params.ts';
import { gatherFloat64 } from './pipeline-gather.ts';
import { abortPipelineComms, type PipelineComms } from './pipeline-p2p.ts';
import { bubbleFraction, stageSchedule } from './pipeline-schedule.ts';
import { activationShape, stageFn } from './pipeline-stage-fn.ts';
import type { PipelineStage } from './pipeline-stages.ts';
import { TiedGradSum } from './pipeline-tied.ts';
import { segmentBackward, segmentForward, type SegmentGrads } from './segment.ts';

export interface PipelineStepOptions {
  lr: number;
  /** clip the global gradient norm to this; 0 or undefined: no clipping */
  clipNorm?: number;
  labelSmoothing?: number;
  head?: HeadTuning;
  /** tied head, P > 1: 'step' sums the two wte copies' gradients once per step (Megatron's embedding
   * group; default); 'micro-batch' per micro-batch on the last stage, one device's float order
   * exactly (pipeline-tied.ts), at the cost of keeping about P head gradients of wte there */
  tiedSum?: 'step' | 'micro-batch';
}

export interface PipelineStepResult {
  /** mean loss over the micro-batches (and data-parallel replicas) */
  loss: number;
  /** global gradient norm before clipping, over every stage */
  gradNorm: number;
  lr: number;
  /** input tokens this pipeline processed */
  tokens: number;
  bubble: {
    /** (P-1)/(M+P-1) */
    theoretical: number;
    /** mean over stages of the time each spent waiting for its neighbours, over its schedule's time */
    measured: number;
    /** each stage's measured idle fraction, by stage */
    perStage: number[];
  };
}

interface ScheduleOut {
  /** the stage's gradients, summed over micro-batches, flat in plan.specs order */
  grads: Float32Array;
  /** sum of the micro-batches' losses (last stage; 0 elsewhere) */
  lossSum: number;
  idleFraction: number;
  /** set when the tied gradient is summed per micro-batch */
  tiedSum?: TiedGradSum;
}

/** Sends run while the stage computes; their failures surface when they are awaited at the end. */
function pending(p: Promise<void>): Promise<void> {
  p.catch(() => undefined);
  return p;
}

/** Lets a send just queued reach its transport before the next (synchronous) compute: without it
 * the bytes would wait for this stage's next await, and its neighbour with them. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function runSchedule(
  st: PipelineStage,
  comms: PipelineComms,
  micro: PackedBatch[],
  o: PipelineStepOptions,
): Promise<ScheduleOut> {
  const { plan, model } = st;
  const d = model.config.dModel;
  const vars = plan.specs.map((s) => model.param(s.name));
  const sizes = plan.specs.map((s) => sizeOf(s.shape));
  const grads = new Float32Array(sizes.reduce((a, b) => a + b, 0));
  const kept = new Map<number, tf.Tensor[]>();
  const sends: Promise<void>[] = [];
  let lossSum = 0;
  let idle = 0;
  let backwards = 0;
  const wteIndex = plan.specs.findIndex((s) => s.name === 'wte.weight');
  const tiedSum =
    o.tiedSum === 'micro-batch' && comms.embedding
      ? new TiedGradSum(comms, micro, d, viewOf(st, grads, 'wte.weight'))
      : undefined;
  const t0 = performance.now();
  const waitFor = async (p: Promise<void>) => {
    const t = performance.now();
    await p;
    idle += performance.now() - t;
  };
  // the loss is recorded when the last stage's piece runs under the tape (its forward is skipped)
  const fns = micro.map((b) => stageFn(model, plan, b, { ...o, onLoss: (l) => (lossSum += l) }));
  try {
    for (const a of stageSchedule(plan.stages, micro.length, plan.stage)) {
      const shape = activationShape(micro[a.micro]!, d);
      const fn = fns[a.micro]!;
      if (a.kind === 'F') {
        const inputs: tf.Tensor[] = [];
        if (!plan.isFirst) {
          const buf = new Float32Array(shape[0] * shape[1]);
          await waitFor(comms.fromPrev!.recv(buf));
          inputs.push(tf.tensor2d(buf, shape));
        }
        kept.set(a.micro, inputs);
        // the last stage's output is the loss, which its backward computes anyway
        if (plan.isLast) continue;
        const y = segmentForward(fn, inputs);
        const out = (y.dataSync() as Float32Array).slice();
        y.dispose();
        sends.push(pending(comms.toNext!.send(out)));
        await flush();
        continue;
      }
      const inputs = kept.get(a.micro)!;
      kept.delete(a.micro);
      let dy: tf.Tensor;
      if (plan.isLast) dy = tf.scalar(1);
      else {
        const buf = new Float32Array(shape[0] * shape[1]);
        await waitFor(comms.fromNext!.recv(buf));
        dy = tf.tensor2d(buf, shape);
      }
      let g: SegmentGrads | undefined;
      try {
        g = segmentBackward(fn, inputs, vars, dy);
        // summed in micro-batch order, as train-step.ts's accumulateGrads does
        let off = 0;
        for (let i = 0; i < vars.length; i++) {
          const src = g.params[i]!.dataSync() as Float32Array;
          const dst = grads.subarray(off, off + sizes[i]!);
          off += sizes[i]!;
          if (tiedSum && i === wteIndex) {
            if (plan.isFirst) sends.push(pending(tiedSum.sendRows(a.micro, src)));
            else tiedSum.addHead(a.micro, src.slice());
            continue;
          }
          if (backwards === 0) dst.set(src);
          else for (let j = 0; j < src.length; j++) dst[j]! += src[j]!;
        }
        backwards++;
        if (!plan.isFirst) sends.push(pending(comms.toPrev!.send((g.inputs[0]!.dataSync() as Float32Array).slice())));
      } finally {
        tf.dispose([dy, ...inputs, ...(g ? [...g.inputs, ...g.params] : [])]);
      }
      if (!plan.isFirst) await flush();
    }
    await waitFor(Promise.all(sends).then(() => undefined));
    if (tiedSum && plan.isLast) await waitFor(tiedSum.settled());
  } finally {
    // a failed step leaves no stage inputs behind
    for (const ts of kept.values()) tf.dispose(ts);
  }
  const total = performance.now() - t0;
  return { grads, lossSum, idleFraction: total > 0 ? idle / total : 0, tiedSum };
}

/** The gradient of `name` within the flat array laid out in plan.specs order. */
function viewOf(st: PipelineStage, grads: Float32Array, name: string): Float32Array {
  let off = 0;
  for (const s of st.plan.specs) {
    const n = sizeOf(s.shape);
    if (s.name === name) return grads.subarray(off, off + n);
    off += n;
  }
  throw new Error(`pipeline step: stage ${st.plan.stage} holds no parameter ${name}`);
}

/** One optimizer step of this rank's stage; every rank of the grid calls it with its replica's
 * micro-batches (the same list on every stage of a pipeline). `opt` covers the stage's parameters:
 * new AdamW(stage.plan.specs, ...). A failure aborts every group of `comms`, so the other ranks
 * fail too instead of waiting for this one. */
export async function pipelineTrainStep(
  st: PipelineStage,
  opt: AdamW,
  comms: PipelineComms,
  micro: PackedBatch[],
  o: PipelineStepOptions,
): Promise<PipelineStepResult> {
  try {
    return await stepOnce(st, opt, comms, micro, o);
  } catch (err) {
    abortPipelineComms(comms, err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}

async function stepOnce(
  st: PipelineStage,
  opt: AdamW,
  comms: PipelineComms,
  micro: PackedBatch[],
  o: PipelineStepOptions,
): Promise<PipelineStepResult> {
  const { plan } = st;
  if (micro.length === 0) throw new Error('pipelineTrainStep: no micro-batches');
  if (comms.stage !== plan.stage || comms.stages !== plan.stages)
    throw new Error(
      `pipelineTrainStep: comms are for stage ${comms.stage} of ${comms.stages}, the model for ${plan.stage} of ${plan.stages}`,
    );
  const { grads, lossSum, idleFraction, tiedSum } = await runSchedule(st, comms, micro, o);
  const k = 1 / micro.length;
  if (micro.length > 1) for (let i = 0; i < grads.length; i++) grads[i]! *= k;
  let loss = lossSum * k;
  const tied = comms.embedding !== undefined;
  // both copies of wte then hold the sum of the embedding's and the head's gradient
  if (tiedSum) await tiedSum.share(viewOf(st, grads, 'wte.weight'), plan.isLast);
  else if (tied) await comms.embedding!.allReduce(viewOf(st, grads, 'wte.weight'), 'sum');
  if (comms.dp > 1) {
    await comms.dpGroup.allReduce(grads, 'mean');
    if (plan.isLast) loss = (await gatherFloat64(comms.dpGroup, [loss])).reduce((s, v) => s + v[0]!, 0) / comms.dp;
  }
  let sumSq = 0;
  for (const s of plan.specs) {
    if (tied && plan.isLast && s.name === 'wte.weight') continue; // counted on the first stage
    const g = viewOf(st, grads, s.name);
    for (let i = 0; i < g.length; i++) sumSq += g[i]! * g[i]!;
  }
  const all = await gatherFloat64(comms.pipe, [sumSq, plan.isLast ? loss : 0, idleFraction]);
  const gradNorm = Math.sqrt(all.reduce((s, v) => s + v[0]!, 0));
  loss = all[plan.stages - 1]![1]!;
  // PyTorch's clip_grad_norm_, as train-step.ts's clipGlobalNorm
  if (o.clipNorm) {
    const f = o.clipNorm / (gradNorm + 1e-6);
    if (f < 1) for (let i = 0; i < grads.length; i++) grads[i]! *= f;
  }
  opt.apply(st.model, new Map(plan.specs.map((s) => [s.name, viewOf(st, grads, s.name)])), o.lr);
  const perStage = all.map((v) => v[2]!);
  return {
    loss,
    gradNorm,
    lr: o.lr,
    tokens: micro.reduce((n, b) => n + b.batch * b.seqLen, 0),
    bubble: {
      theoretical: bubbleFraction(plan.stages, micro.length),
      measured: perStage.reduce((a, b) => a + b, 0) / perStage.length,
      perStage,
    },
  };
}
