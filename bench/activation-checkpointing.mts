// Activation checkpointing (model.activationCheckpointing, src/nn/model/block-checkpoint.ts) on the
// `tiny` preset (vocabulary 50257, context 128, 4 layers, d 128) with batch 8 x 128 tokens: the
// bytes of tensors the forward pass keeps for the backward pass (alive when the backward starts),
// the peak bytes over a forward and backward pass (tf.profile, after every kernel), and the time
// of a forward and backward pass, off and on. tfjs counts bytes per tensor handle, so a buffer two
// handles share (a saved clone of a weight) counts twice; the wasm heap's size after the passes is
// the memory really taken (the heap grows and never shrinks: its high-water mark), which is why each
// mode runs in a process of its own. Args: dropout=0 (dropout and attention dropout) rounds=3
// mode=off|on (one mode, in this process; without it both, each in a child process)
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../src/nn/backend/backend.ts';
import { GPT_PRESETS } from '../src/nn/model/config.ts';
import { Gpt } from '../src/nn/model/gpt.ts';
import { autoregressiveLoss, type PackedBatch } from '../src/nn/objective/loss.ts';
import { Rng } from '../src/runtime/rng.ts';

const BATCH = 8;
const SEQ = 128;
const MB = 1024 * 1024;
const r1 = (x: number) => Math.round(x * 10) / 10;

const arg = (args: string[], name: string, dflt: number) => {
  const v = Number(args.find((x) => x.startsWith(`${name}=`))?.slice(name.length + 1) ?? dflt);
  if (!Number.isFinite(v) || v < 0) throw new Error(`bench activation-checkpointing: ${name} must be a number >= 0`);
  return v;
};

interface Figures {
  /** tensor bytes alive when the backward pass starts, beyond the parameters */
  keptMB: number;
  /** most tensor bytes alive after any kernel of the forward and backward pass, beyond the parameters */
  peakMB: number;
  /** the wasm heap's size at the end (its high-water mark); null on other backends */
  heapMB: number | null;
  ms: number;
}

const heapBytes = (): number | null =>
  tf.getBackend() === 'wasm'
    ? ((tf.backend() as BackendWasm).wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer.byteLength
    : null;

function lossAndGrads(model: Gpt, batch: PackedBatch, wrap: (t: tf.Tensor) => tf.Tensor = (t) => t): void {
  const { value, grads } = tf.variableGrads(
    () => wrap(autoregressiveLoss(model, batch, { rng: new Rng(2) })) as tf.Scalar,
    [...model.params.values()],
  );
  tf.dispose([value, ...Object.values(grads)]);
}

async function measure(on: boolean, dropout: number, batch: PackedBatch, rounds: number): Promise<Figures> {
  const model = Gpt.create({ ...GPT_PRESETS.tiny, dropout, activationCheckpointing: on }, { seed: 1 });
  try {
    const start = tf.memory().numBytes;
    let kept = 0;
    // an identity on the loss: its gradient is the first the backward pass runs
    const probe = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => ({
      value: tf.clone(args[0] as tf.Tensor),
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) => {
        kept = tf.memory().numBytes - start;
        return tf.clone(dy as tf.Tensor);
      },
    }));
    const profile = await tf.profile(() => lossAndGrads(model, batch, (t) => probe(t)));
    const times: number[] = [];
    lossAndGrads(model, batch); // warm-up
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      lossAndGrads(model, batch);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const heap = heapBytes();
    return {
      keptMB: r1(kept / MB),
      peakMB: r1((profile.peakBytes - start) / MB),
      heapMB: heap === null ? null : r1(heap / MB),
      ms: Math.round(times[times.length >> 1]!),
    };
  } finally {
    model.dispose();
  }
}

/** One mode in a child process: its last stdout line is that mode's figures (JSON). */
function child(mode: 'off' | 'on', args: string[]): Figures {
  const run = fileURLToPath(new URL('./run.mts', import.meta.url));
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', run, 'activation-checkpointing', ...args, `mode=${mode}`],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const last = out.trim().split('\n').pop() ?? '';
  return (JSON.parse(last) as { figures: Figures }).figures;
}

export default async function bench(args: string[]): Promise<Record<string, unknown>> {
  const dropout = arg(args, 'dropout', 0);
  const rounds = Math.max(1, Math.round(arg(args, 'rounds', 3)));
  const mode = args.find((a) => a.startsWith('mode='))?.slice(5);
  if (mode !== undefined) {
    if (mode !== 'on' && mode !== 'off')
      throw new Error(`bench activation-checkpointing: mode must be on or off, got ${mode}`);
    const backend = await initBackend({ announce: false });
    const rng = new Rng(7);
    const batch: PackedBatch = {
      inputIds: Int32Array.from({ length: BATCH * (SEQ + 1) }, () => rng.below(GPT_PRESETS.tiny.vocabSize)),
      batch: BATCH,
      seqLen: SEQ,
    };
    return { mode, backend: backend.name, figures: await measure(mode === 'on', dropout, batch, rounds) };
  }
  const others = args.filter((a) => !a.startsWith('mode='));
  const off = child('off', others);
  const on = child('on', others);
  const row = (name: string, f: Figures) =>
    console.log(
      `${name.padEnd(4)} kept ${f.keptMB} MB, peak ${f.peakMB} MB (tensor handles), wasm heap ${f.heapMB} MB, ` +
        `forward+backward ${f.ms} ms`,
    );
  console.log(`tiny preset, batch ${BATCH} x ${SEQ}, dropout ${dropout}`);
  row('off', off);
  row('on', on);
  const cut = (a: number | null, b: number | null) => (a === null || b === null ? null : r1((1 - b / a) * 100));
  return {
    bench: 'activation-checkpointing',
    dropout,
    off,
    on,
    keptReductionPct: cut(off.keptMB, on.keptMB),
    peakReductionPct: cut(off.peakMB, on.peakMB),
    heapReductionPct: cut(off.heapMB, on.heapMB),
    timeRatio: Math.round((on.ms / off.ms) * 100) / 100,
  };
}
