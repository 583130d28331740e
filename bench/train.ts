// Training throughput of flowlm's GPT (forward, backward, AdamW) on the configs of issue 5: `tiny`
// (GPT-2 vocabulary 50257, context 128, 4 layers, 4 heads, d_model 128, MLP 4x, batch 8, fp32, tied
// head) and `micro` (vocabulary 4096, d_model 64, 2 layers), on random tokens. Figures are medians of
// the timed steps after warm-up. In-process baselines: a plain 2-D matmul on the same backend
// (`flops_utilization` is the model's FLOP rate over it, so a loaded machine shows up in both), and,
// when the head helper thread runs, steps with the head on one thread, alternating with the default
// (`head_thread_speedup`). cpu_share: process CPU time per wall second (1.0 = a whole core).
// `vs_torch`: tokens/s of `flowlm train --devices cpu:2` and of the PyTorch reference in the same run,
// for `tiny` and the demo's model (bench/_train-vs-torch.ts); absent when /usr/bin/python3 has no torch.
// Args: config=micro,tiny steps=5 warmup=1 batch=8 torch=tiny,demo (or none) torch_rounds=2 torch_steps=6
import * as tf from '@tensorflow/tfjs';
import { loadavg } from 'node:os';
import { AdamW } from '../src/nn/optim/adamw.ts';
import { initBackend } from '../src/nn/backend/backend.ts';
import { GPT_PRESETS, gptConfig } from '../src/nn/model/config.ts';
import { Gpt } from '../src/nn/model/gpt.ts';
import { headHelper } from '../src/nn/head/head-helper.ts';
import { headChunkCount } from '../src/nn/head/head-loss.ts';
import type { PackedBatch } from '../src/nn/objective/loss.ts';
import { trainStep } from '../src/nn/train/train-step.ts';
import { Rng } from '../src/runtime/rng.ts';
import { flowlmTokensPerS, SHAPES, torchTokensPerS, torchVersion } from './_train-vs-torch.ts';
import { prepShards } from './_flowlm-train-run.ts';
import { resolve } from 'node:path';
import { peakRssMb as peakRss } from '../src/runtime/peak-rss.ts';
import { median } from './_median.ts';
const peakRssMb = () => Math.round(peakRss());

type PresetName = keyof typeof GPT_PRESETS;

const arg = (args: string[], name: string, dflt: string) =>
  args.find((x) => x.startsWith(`${name}=`))?.slice(name.length + 1) ?? dflt;
const int = (args: string[], name: string, dflt: number) => {
  const v = Number(arg(args, name, String(dflt)));
  if (!Number.isInteger(v) || v < 0)
    throw new Error(`bench train: ${name} must be a non-negative integer, got ${arg(args, name, '')}`);
  return v;
};

/** GFLOP/s of a plain [1024, 128] x [128, 4096] product, the shape class of the model's matmuls. */
function matmulGflops(): number {
  const a = tf.randomNormal([1024, 128]);
  const b = tf.randomNormal([128, 4096]);
  const times: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
    if (i > 0) times.push(performance.now() - t0);
  }
  tf.dispose([a, b]);
  return (2 * 1024 * 128 * 4096) / (median(times) * 1e6);
}

/** Training FLOPs per token: 6 per parameter multiply-add (forward 2, backward 4) plus attention. */
function flopsPerToken(c: ReturnType<typeof gptConfig>, seqLen: number): number {
  const d = c.dModel;
  const mm = c.nLayer * (3 * d * d + d * d + 2 * c.mlpRatio * d * d) + c.vocabSize * d;
  const attn = c.nLayer * 2 * seqLen * d; // QK^T and PV, full square (the causal half is not counted off)
  return 6 * (mm + attn);
}

interface ModeFigures {
  stepMs: number[];
  cpuMs: number;
  wallMs: number;
}

async function benchConfig(
  name: PresetName,
  batch: number,
  steps: number,
  warmup: number,
  helper: boolean,
): Promise<Record<string, unknown>> {
  const cfg = gptConfig(GPT_PRESETS[name]);
  const seqLen = cfg.contextLength;
  const model = Gpt.create(cfg, { seed: 1 });
  const opt = new AdamW(model.specs);
  const rng = new Rng(7);
  const makeBatch = (): PackedBatch => ({
    inputIds: Int32Array.from({ length: batch * (seqLen + 1) }, () => rng.below(cfg.vocabSize)),
    batch,
    seqLen,
  });
  // with the head helper thread (and a head big enough to be split), steps alternate between two
  // threads and one for the head
  const split = helper && headChunkCount(batch * seqLen, cfg.vocabSize) > 1;
  const modes: Array<1 | 2> = split ? [2, 1] : [1];
  const figures = new Map<1 | 2, ModeFigures>(modes.map((m) => [m, { stepMs: [], cpuMs: 0, wallMs: 0 }]));
  let firstLoss = 0;
  const tensorsBefore = tf.memory().numTensors;
  for (let i = 0; i < warmup + steps; i++) {
    for (const mode of modes) {
      const b = makeBatch();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const r = trainStep(model, opt, [b], {
        objective: { kind: 'autoregressive' },
        lr: 3e-4,
        clipNorm: 1,
        head: { threads: mode },
      });
      const dt = performance.now() - t0;
      if (i === 0 && mode === modes[0]) firstLoss = r.loss;
      if (i < warmup) continue;
      const f = figures.get(mode)!;
      f.stepMs.push(dt);
      const c = process.cpuUsage(c0);
      f.cpuMs += (c.user + c.system) / 1000;
      f.wallMs += dt;
    }
  }
  const leaked = tf.memory().numTensors - tensorsBefore;
  const params = model.numParams();
  model.dispose();
  const tokens = batch * seqLen;
  const summary = (f: ModeFigures) => {
    const ms = median(f.stepMs);
    return {
      step_ms: Math.round(ms),
      tokens_per_s: Math.round((tokens / (ms / 1000)) * 10) / 10,
      cpu_share: Math.round((f.cpuMs / f.wallMs) * 100) / 100,
    };
  };
  const main = summary(figures.get(modes[0]!)!);
  const one = split ? summary(figures.get(1)!) : undefined;
  const r = {
    config: name,
    params,
    batch,
    seq_len: seqLen,
    ...main,
    model_gflops: Math.round((main.tokens_per_s * flopsPerToken(cfg, seqLen)) / 1e7) / 100,
    ...(one
      ? { one_thread: one, head_thread_speedup: Math.round((main.tokens_per_s / one.tokens_per_s) * 100) / 100 }
      : {}),
    peak_rss_mb: peakRssMb(),
    first_loss: Math.round(firstLoss * 1000) / 1000,
    leaked_tensors: leaked,
  };
  console.log(
    `${name}: ${r.step_ms} ms/step, ${r.tokens_per_s} tokens/s, ${r.model_gflops} GFLOP/s, cpu share ${r.cpu_share}` +
      (one ? ` (head on one thread: ${one.tokens_per_s} tokens/s, ${one.step_ms} ms/step)` : '') +
      `, peak RSS ${r.peak_rss_mb} MB`,
  );
  return r;
}

/** flowlm on cpu:2 against PyTorch (best of 1 and 2 threads), rounds alternating the order. */
async function vsTorch(names: string[], rounds: number, steps: number): Promise<Record<string, unknown>> {
  const torch = torchVersion();
  if (torch.absent) {
    console.log(`PyTorch reference absent: ${torch.absent}`);
    return { torch: 'absent', reason: torch.absent };
  }
  const prep = resolve('out/bench/prep-gpt2-128');
  prepShards(prep);
  const out: Record<string, unknown> = { torch: torch.version };
  for (const name of names) {
    const shape = SHAPES[name];
    if (!shape) throw new Error(`bench train: torch=${name} is not one of ${Object.keys(SHAPES).join(', ')}`);
    const fl: number[] = [];
    const t1: number[] = [];
    const t2: number[] = [];
    let backend = '';
    const flowlm = async () => {
      const r = await flowlmTokensPerS(shape, 'cpu:2', prep, steps);
      fl.push(r.tokensPerS);
      backend = r.backend;
    };
    // PyTorch's batch is both replicas' rows: the same tokens per optimizer step
    const torchRuns = () => {
      t1.push(torchTokensPerS(shape, 2 * shape.batchPerReplica, 1, steps));
      t2.push(torchTokensPerS(shape, 2 * shape.batchPerReplica, 2, steps));
    };
    for (let r = 0; r < rounds; r++) {
      if (r % 2) {
        torchRuns();
        await flowlm();
      } else {
        await flowlm();
        torchRuns();
      }
    }
    const f = median(fl);
    const best = Math.max(median(t1), median(t2));
    const fig = {
      flowlm_cpu2_tokens_per_s: Math.round(f),
      torch_1_thread_tokens_per_s: Math.round(median(t1)),
      torch_2_threads_tokens_per_s: Math.round(median(t2)),
      ratio_vs_torch: Math.round((f / best) * 100) / 100,
      backend,
    };
    console.log(
      `${name} vs PyTorch ${torch.version}: flowlm cpu:2 ${fig.flowlm_cpu2_tokens_per_s} tokens/s, PyTorch ` +
        `${fig.torch_1_thread_tokens_per_s} (1 thread) / ${fig.torch_2_threads_tokens_per_s} (2 threads): ` +
        `${fig.ratio_vs_torch}x`,
    );
    out[name] = fig;
  }
  return out;
}

export default async function trainBench(args: string[]): Promise<Record<string, unknown>> {
  const configs = arg(args, 'config', 'micro,tiny').split(',') as PresetName[];
  for (const c of configs)
    if (!(c in GPT_PRESETS))
      throw new Error(`bench train: unknown config ${c}; known: ${Object.keys(GPT_PRESETS).join(', ')}`);
  const steps = int(args, 'steps', 5);
  const warmup = int(args, 'warmup', 1);
  const batch = int(args, 'batch', 8);
  const torchNames = arg(args, 'torch', 'tiny,demo');
  const torchRounds = int(args, 'torch_rounds', 2);
  const torchSteps = int(args, 'torch_steps', 6);
  const backend = await initBackend();
  const baseline = matmulGflops();
  console.log(
    `backend ${backend.name} (${backend.detail}); plain matmul ${baseline.toFixed(1)} GFLOP/s; load average ${loadavg()[0]!.toFixed(2)}`,
  );
  const results: Record<string, Record<string, unknown>> = {};
  // micro first: peak RSS is per process, so the larger config's figure includes the smaller's
  const helper = headHelper() !== undefined;
  for (const c of configs) results[c] = await benchConfig(c, batch, steps, warmup, helper);
  for (const r of Object.values(results))
    r.flops_utilization = Math.round((Number(r.model_gflops) / baseline) * 100) / 100;
  const main = results.tiny ?? Object.values(results)[0]!;
  const versus = torchNames === 'none' ? undefined : await vsTorch(torchNames.split(','), torchRounds, torchSteps);
  return {
    backend: backend.name,
    backend_detail: backend.detail,
    tokens_per_s: main.tokens_per_s,
    step_ms: main.step_ms,
    peak_rss_mb: peakRssMb(),
    matmul_gflops: Math.round(baseline * 10) / 10,
    load_average: Math.round(loadavg()[0]! * 100) / 100,
    configs: results,
    ...(versus ? { vs_torch: versus } : {}),
  };
}
