// Native matmul (src/nn/backend/native: OpenBLAS sgemm on the wasm heap) against tfjs-backend-wasm's
// own kernels, in the same process, alternating: GFLOP/s on the products of the `tiny` GPT's
// training step (its linears forward and backward, the attention shape, the head's vocabulary
// blocks), and tokens/s of whole training steps with the whole native kernel pack (matmul, attention,
// head + cross-entropy, GELU, layer norm, AdamW) against none of it (withoutNative: wasm and the JS
// kernels), head on the main thread only. Figures are medians over `rounds` rounds.
// Args: rounds=3 steps=2 (training steps per mode and round) train=1 (0 skips the training steps)
import * as tf from '@tensorflow/tfjs';
import { loadavg } from 'node:os';
import { initBackend } from '../src/nn/backend/backend.ts';
import { setNativeMatmul } from '../src/nn/backend/native/native-matmul.ts';
import { withoutNative } from '../src/nn/backend/native/native.ts';
import { loadNative, nativeSkipReason } from '../src/nn/backend/native/native.ts';
import { GPT_PRESETS, gptConfig } from '../src/nn/model/config.ts';
import { Gpt } from '../src/nn/model/gpt.ts';
import { AdamW } from '../src/nn/optim/adamw.ts';
import { trainStep } from '../src/nn/train/train-step.ts';
import { Rng } from '../src/runtime/rng.ts';
import { median } from './_median.ts';

const arg = (args: string[], name: string, dflt: number) => {
  const v = Number(args.find((x) => x.startsWith(`${name}=`))?.slice(name.length + 1) ?? dflt);
  if (!Number.isInteger(v) || v < 0) throw new Error(`bench native-matmul: ${name} must be a whole number >= 0`);
  return v;
};
const r2 = (x: number) => Math.round(x * 100) / 100;

/** name, a, b, transposeA, transposeB: the products of one `tiny` step (1024 rows, d 128) */
const SHAPES: Array<[string, number[], number[], boolean, boolean]> = [
  ['qkv x W', [1024, 128], [128, 384], false, false],
  ['fc x W', [1024, 128], [128, 512], false, false],
  ['fc-proj x W', [1024, 512], [512, 128], false, false],
  ['dx = dy W^T', [1024, 384], [384, 128], false, false],
  ['dW = x^T dy', [128, 1024], [1024, 512], false, false],
  ['head logits block', [256, 128], [128, 4096], false, false],
  ['head dW block', [128, 256], [256, 4096], false, false],
  ['head dh block', [256, 4096], [4096, 128], false, false],
  ['head, whole vocabulary', [256, 128], [128, 50257], false, false],
  ['attention q k^T (batched)', [32, 128, 32], [32, 128, 32], false, true],
];

/** GFLOP/s of one product: the median of repeats filling about `budgetMs`. */
/** 2 m n k per product, times the batch */
function flopsOf(as: number[], bs: number[], ta: boolean, tb: boolean): number {
  const [ra, rb] = [as.length, bs.length];
  const m = ta ? as[ra - 1]! : as[ra - 2]!;
  const k = ta ? as[ra - 2]! : as[ra - 1]!;
  const n = tb ? bs[rb - 2]! : bs[rb - 1]!;
  return 2 * m * n * k * as.slice(0, -2).reduce((x, y) => x * y, 1);
}

function gflops(a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean, budgetMs: number): number {
  const flops = flopsOf(a.shape, b.shape, ta, tb);
  const times: number[] = [];
  const t0 = performance.now();
  while (times.length < 3 || (performance.now() - t0 < budgetMs && times.length < 50)) {
    const s = performance.now();
    const c = tf.matMul(a, b, ta, tb);
    c.dataSync();
    times.push(performance.now() - s);
    c.dispose();
  }
  return flops / (median(times) * 1e6);
}

export default async function nativeMatmulBench(args: string[]): Promise<Record<string, unknown>> {
  const rounds = Math.max(1, arg(args, 'rounds', 3));
  const steps = Math.max(1, arg(args, 'steps', 2));
  const backend = await initBackend({ backend: 'wasm', headThread: false });
  if (!loadNative()) {
    console.log(`native matmul not available: ${nativeSkipReason()}`);
    return { native: false, reason: nativeSkipReason() };
  }
  console.log(`backend wasm (${backend.detail}); load average ${loadavg()[0]!.toFixed(2)}; ${rounds} rounds`);
  const perShape: Record<string, { native: number; wasm: number; ratio: number }> = {};
  for (const [name, as, bs, ta, tb] of SHAPES) {
    const a = tf.randomNormal(as);
    const b = tf.randomNormal(bs);
    const fig = { native: [] as number[], wasm: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      for (const mode of ['wasm', 'native'] as const) {
        setNativeMatmul(mode === 'native');
        fig[mode].push(gflops(a, b, ta, tb, 300));
      }
    }
    tf.dispose([a, b]);
    const native = median(fig.native);
    const wasm = median(fig.wasm);
    perShape[name] = { native: r2(native), wasm: r2(wasm), ratio: r2(native / wasm) };
    console.log(
      `${name.padEnd(26)} [${as}]${ta ? 'T' : ''} x [${bs}]${tb ? 'T' : ''}: native ${native.toFixed(1)} GFLOP/s, wasm ${wasm.toFixed(1)}, ${(native / wasm).toFixed(2)}x`,
    );
  }
  let train: Record<string, number> | undefined;
  if (arg(args, 'train', 1)) {
    const cfg = gptConfig(GPT_PRESETS.tiny);
    const model = Gpt.create(cfg, { seed: 1 });
    const opt = new AdamW(model.specs);
    const rng = new Rng(7);
    const batch = 8;
    const seqLen = cfg.contextLength;
    const step = () =>
      trainStep(
        model,
        opt,
        [
          {
            inputIds: Int32Array.from({ length: batch * (seqLen + 1) }, () => rng.below(cfg.vocabSize)),
            batch,
            seqLen,
          },
        ],
        { objective: { kind: 'autoregressive' }, lr: 3e-4, clipNorm: 1, head: { threads: 1 } },
      );
    step(); // warm-up: the first step compiles and allocates
    const tps = { native: [] as number[], wasm: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      for (const mode of ['wasm', 'native'] as const) {
        setNativeMatmul(mode === 'native');
        const ms: number[] = [];
        for (let i = 0; i < steps; i++) {
          const t0 = performance.now();
          if (mode === 'native') step();
          else withoutNative(step);
          ms.push(performance.now() - t0);
        }
        tps[mode].push((batch * seqLen) / (median(ms) / 1000));
      }
      console.log(
        `train tiny round ${r + 1}: native ${tps.native.at(-1)!.toFixed(0)} tokens/s, wasm ${tps.wasm.at(-1)!.toFixed(0)}`,
      );
    }
    model.dispose();
    train = { native: Math.round(median(tps.native)), wasm: Math.round(median(tps.wasm)) };
    train.ratio = r2(train.native! / train.wasm!);
    console.log(
      `train tiny (head on one thread): native ${train.native} tokens/s, wasm ${train.wasm}, ${train.ratio}x`,
    );
  }
  setNativeMatmul(true);
  // the headline: all the step's products together, FLOPs over summed time (each counted once)
  let flops = 0;
  let tn = 0;
  let tw = 0;
  for (const [name, as, bs, ta, tb] of SHAPES) {
    const f = flopsOf(as, bs, ta, tb);
    flops += f;
    tn += f / perShape[name]!.native;
    tw += f / perShape[name]!.wasm;
  }
  const all = { native: flops / tn, wasm: flops / tw };
  console.log(
    `all shapes: native ${all.native.toFixed(1)} GFLOP/s, wasm ${all.wasm.toFixed(1)}, ${(tw / tn).toFixed(2)}x`,
  );
  return {
    gflops_native: r2(all.native),
    gflops_wasm: r2(all.wasm),
    ratio: r2(tw / tn),
    train_tokens_per_s_native: train?.native,
    train_tokens_per_s_wasm: train?.wasm,
    train_tokens_per_s_ratio: train?.ratio,
    rounds,
    load_average: r2(loadavg()[0]!),
    shapes: perShape,
  };
}
