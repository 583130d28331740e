// The memory planner (src/scheduler/memory-plan.ts) against a real training step: for three model
// sizes (GPT-2 vocabulary, context 128, batch 8 x 128), each with activation checkpointing off and on,
// one step — forward, backward, gradients copied to the flat all-reduce buffer, AdamW — runs under
// tf.profile in a process of its own (the wasm heap never shrinks), and the most tensor bytes alive
// after any kernel (peakBytes, parameters included) is printed beside the planner's tensor peak,
// with the ratio; the planner's JS-side terms (flat gradients, moments, the head's chunk) are printed
// too, but tf.profile does not see them. Args: size=micro|tiny|small mode=off|on (one case, here)
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/nn/backend/backend.ts';
import { gptConfig, type GptConfigInput } from '../src/nn/model/config.ts';
import { Gpt } from '../src/nn/model/gpt.ts';
import type { PackedBatch } from '../src/nn/objective/loss.ts';
import { AdamW } from '../src/nn/optim/adamw.ts';
import { FlatLayout } from '../src/nn/optim/flat-layout.ts';
import { gradsInto } from '../src/nn/train/train-step.ts';
import { Rng } from '../src/runtime/rng.ts';
import { memoryPlan } from '../src/scheduler/memory-plan.ts';

export const SIZES = {
  micro: { vocabSize: 50257, contextLength: 128, nLayer: 2, nHead: 2, dModel: 64, mlpRatio: 4 },
  tiny: { vocabSize: 50257, contextLength: 128, nLayer: 4, nHead: 4, dModel: 128, mlpRatio: 4 },
  small: { vocabSize: 50257, contextLength: 128, nLayer: 4, nHead: 4, dModel: 256, mlpRatio: 4 },
} satisfies Record<string, GptConfigInput>;
type Size = keyof typeof SIZES;
const BATCH = 8;
const SEQ = 128;
const MB = 1024 * 1024;
const r1 = (x: number) => Math.round(x * 10) / 10;

export interface StepPeak {
  /** tensor bytes alive when the step starts (the parameters) */
  startBytes: number;
  /** most tensor bytes alive after any kernel of the step (tf.profile), parameters included */
  peakBytes: number;
}

/** One training step of `model` on `batch` under tf.profile: what a replica's step does with its tensors. */
export async function measureStep(model: Gpt, batch: PackedBatch): Promise<StepPeak> {
  const layout = new FlatLayout(model.specs);
  const opt = new AdamW(model.specs);
  const flat = new Float32Array(layout.total);
  const startBytes = tf.memory().numBytes;
  const profile = await tf.profile(() => {
    gradsInto(model, batch, { objective: { kind: 'autoregressive' }, rng: new Rng(3) }, layout, flat, false);
    opt.apply(model, layout.unflatten(flat), 1e-3);
  });
  return { startBytes, peakBytes: profile.peakBytes };
}

export function randomBatch(vocab: number, rows: number, seqLen: number, seed = 7): PackedBatch {
  const rng = new Rng(seed);
  return { inputIds: Int32Array.from({ length: rows * (seqLen + 1) }, () => rng.below(vocab)), batch: rows, seqLen };
}

interface Row {
  size: Size;
  mode: 'off' | 'on';
  measuredMB: number;
  predictedMB: number;
  ratio: number;
  jsSideMB: number;
}

function predicted(size: Size, on: boolean) {
  const cfg = gptConfig({ ...SIZES[size], dropout: 0, activationCheckpointing: on });
  return memoryPlan(cfg, { rows: BATCH, seqLen: SEQ, worldSize: 1, zero: false });
}

async function one(size: Size, on: boolean): Promise<Row> {
  await initBackend({ announce: false });
  const model = Gpt.create({ ...SIZES[size], dropout: 0, activationCheckpointing: on }, { seed: 1 });
  try {
    const m = await measureStep(model, randomBatch(SIZES[size].vocabSize, BATCH, SEQ));
    const p = predicted(size, on);
    const t = on ? p.checkpointed : p.plain;
    return {
      size,
      mode: on ? 'on' : 'off',
      measuredMB: r1(m.peakBytes / MB),
      predictedMB: r1(t.tensorPeak / MB),
      ratio: Math.round((m.peakBytes / t.tensorPeak) * 1000) / 1000,
      jsSideMB: r1(t.jsPeak / MB),
    };
  } finally {
    model.dispose();
  }
}

function child(size: Size, mode: 'off' | 'on'): Row {
  const run = fileURLToPath(new URL('./run.mts', import.meta.url));
  const out = execFileSync(process.execPath, ['--import', 'tsx', run, 'memory-plan', `size=${size}`, `mode=${mode}`], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return (JSON.parse(out.trim().split('\n').pop() ?? '') as { row: Row }).row;
}

export default async function bench(args: string[]): Promise<Record<string, unknown>> {
  const size = args.find((a) => a.startsWith('size='))?.slice(5);
  const mode = args.find((a) => a.startsWith('mode='))?.slice(5);
  if (size !== undefined || mode !== undefined) {
    if (!size || !(size in SIZES)) throw new Error(`bench memory-plan: size must be one of ${Object.keys(SIZES)}`);
    if (mode !== 'on' && mode !== 'off') throw new Error(`bench memory-plan: mode must be on or off, got ${mode}`);
    return { row: await one(size as Size, mode === 'on') };
  }
  const rows: Row[] = [];
  console.log(`batch ${BATCH} x ${SEQ}, GPT-2 vocabulary; tensor peak of one step (MB), measured / predicted`);
  for (const s of Object.keys(SIZES) as Size[])
    for (const m of ['off', 'on'] as const) {
      const r = child(s, m);
      rows.push(r);
      console.log(
        `${s.padEnd(6)} checkpointing ${m.padEnd(3)} measured ${r.measuredMB} predicted ${r.predictedMB} ` +
          `ratio ${r.ratio} (JS side, not in the tensor peak: ${r.jsSideMB})`,
      );
    }
  return { bench: 'memory-plan', batch: BATCH, seqLen: SEQ, rows };
}
