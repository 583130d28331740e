// The model learns and its gradients are right: it memorises one batch of real prose (bytes of
// Moby-Dick), its analytic gradients agree with central finite differences, a training step leaves
// no tensors behind, and the backend choice honours FLOWLM_BACKEND.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { AdamW } from '../../src/nn/optim/adamw.ts';
import { initBackend } from '../../src/nn/backend/backend.ts';
import type { GptConfigInput } from '../../src/nn/model/config.ts';
import { Gpt } from '../../src/nn/model/gpt.ts';
import {
  autoregressiveLoss,
  autoregressiveLossValue,
  inputsOf,
  maskedLmLoss,
  maskedLmLossValue,
  type PackedBatch,
} from '../../src/nn/objective/loss.ts';
import { maskTokens } from '../../src/nn/objective/mask-tokens.ts';
import { gradsOf, trainStep } from '../../src/nn/train/train-step.ts';
import { Rng } from '../../src/runtime/rng.ts';
import { mobyDickChapters } from '../../operators/ingest/embedded-corpus.ts';
import { TS_IMPORT } from '../cli/spawn.ts';

/** Rows of seqLen + 1 consecutive bytes of Moby-Dick chapter 1 (a 256-token byte vocabulary). */
function prose(batch: number, seqLen: number, offset = 0): PackedBatch {
  const text = readFileSync(mobyDickChapters().replace('chapter_*.txt', 'chapter_1.txt'));
  const inputIds = new Int32Array(batch * (seqLen + 1));
  for (let i = 0; i < inputIds.length; i++) inputIds[i] = text[offset + i]!;
  return { inputIds, batch, seqLen };
}

beforeAll(async () => {
  await initBackend({ announce: false });
});

describe('training', () => {
  it('overfits one batch of prose: loss below 0.1', () => {
    const model = Gpt.create({ vocabSize: 256, contextLength: 32, nLayer: 2, nHead: 2, dModel: 32 }, { seed: 3 });
    const opt = new AdamW(model.specs, { weightDecay: 0 });
    const batch = prose(4, 32, 1000);
    let first = 0;
    let loss = Infinity;
    let steps = 0;
    for (; steps < 300 && loss >= 0.1; steps++) {
      loss = trainStep(model, opt, [batch], { objective: { kind: 'autoregressive' }, lr: 1e-2, clipNorm: 1 }).loss;
      if (steps === 0) first = loss;
    }
    console.log(`overfit: loss ${first.toFixed(3)} -> ${loss.toFixed(4)} in ${steps} steps`);
    expect(first).toBeGreaterThan(4); // ~ln 256 at initialisation
    expect(loss).toBeLessThan(0.1);
    model.dispose();
  });

  it('leaves no tensors behind across steps (dropout, DropPath, accumulation, clipping, masked LM, evaluation)', () => {
    const model = Gpt.create(
      { vocabSize: 256, contextLength: 16, nLayer: 2, nHead: 2, dModel: 32, dropout: 0.1, dropPath: 0.1 },
      { seed: 1 },
    );
    const opt = new AdamW(model.specs);
    const rng = new Rng(9);
    const counts: number[] = [];
    for (let s = 0; s < 4; s++) {
      const micro = [prose(2, 16, 100 * s), prose(2, 16, 100 * s + 50)];
      const objective =
        s % 2 === 0
          ? { kind: 'autoregressive' as const }
          : { kind: 'masked-lm' as const, maskToken: 0, vocabSize: 256 };
      trainStep(model, opt, micro, { objective, rng, lr: 1e-3, clipNorm: 0.5 });
      // evaluation and sampling paths too
      autoregressiveLossValue(model, micro[0]!, { labelSmoothing: 0.1 });
      maskedLmLossValue(model, maskTokens(inputsOf(micro[1]!), rng, { maskToken: 0, vocabSize: 256 }));
      model.nextTokenLogits(inputsOf(micro[0]!)).dispose();
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts).size, `tensor counts per step: ${counts.join(', ')}`).toBe(1);
    expect(counts[0]).toBe(model.params.size);
    model.dispose();
  });
});

/** Central differences of `loss` in parameter `name` at element i (float32, so a large step). */
function finiteDiff(model: Gpt, loss: () => tf.Scalar, name: string, i: number, h: number): number {
  const p = model.param(name);
  const v = Float32Array.from(p.dataSync() as Float32Array);
  const at = (x: number) => {
    const w = v.slice();
    w[i] = x;
    model.setParams({ [name]: w });
    return tf.tidy(() => loss().dataSync()[0]!);
  };
  const plus = at(v[i]! + h);
  const minus = at(v[i]! - h);
  model.setParams({ [name]: v });
  return (plus - minus) / (2 * h);
}

describe('gradient check against central finite differences', () => {
  // initStd 0.3: with GPT-2's 0.02 the residual stream is so small that LayerNorm turns a float32-sized
  // step (h must be ~1e-2 for the loss difference to rise above float32 rounding) into a big one
  const small: GptConfigInput = { vocabSize: 24, contextLength: 8, nLayer: 2, nHead: 2, dModel: 8, initStd: 0.3 };
  const cases: Array<[string, GptConfigInput, 'ar' | 'mlm']> = [
    ['pre-LN, learned positions, document masking', { ...small, docMasking: true }, 'ar'],
    [
      'post-LN, sinusoidal, untied head, label smoothing',
      { ...small, norm: 'post', positions: 'sinusoidal', tiedHead: false },
      'ar',
    ],
    ['masked LM, bidirectional', { ...small, causal: false }, 'mlm'],
  ];
  it.each(cases)('%s', (_name, cfg, objective) => {
    const model = Gpt.create(cfg, { seed: 11 });
    const rng = new Rng(5);
    const batch: PackedBatch = {
      inputIds: Int32Array.from({ length: 3 * 9 }, () => rng.below(24)),
      batch: 3,
      seqLen: 8,
      docStarts: [[], [3], [2, 6]],
    };
    const smoothing = cfg.tiedHead === false ? 0.1 : 0;
    const masked = maskTokens({ ids: batch.inputIds.slice(0, 24), batch: 3, seqLen: 8 }, rng, {
      maskToken: 23,
      vocabSize: 24,
      maskProb: 0.3,
    });
    const loss = () =>
      objective === 'ar'
        ? autoregressiveLoss(model, batch, { labelSmoothing: smoothing })
        : maskedLmLoss(model, masked);
    const { grads } = gradsOf(model, loss);
    let worst = { name: '', err: 0 };
    for (const [name, g] of grads) {
      // the 3 largest-gradient elements of each tensor: a relative comparison needs signal
      const idx = [...g.keys()].sort((a, b) => Math.abs(g[b]!) - Math.abs(g[a]!)).slice(0, 3);
      for (const i of idx) {
        if (Math.abs(g[i]!) < 1e-4) continue;
        const fd = finiteDiff(model, loss, name, i, 1e-2);
        const err = Math.abs(fd - g[i]!) / (Math.abs(g[i]!) + 1e-3);
        if (err > worst.err)
          worst = { name: `${name}[${i}] analytic ${g[i]!.toExponential(3)} fd ${fd.toExponential(3)}`, err };
      }
    }
    console.log(`gradient check (${_name}): worst relative difference ${worst.err.toExponential(2)} at ${worst.name}`);
    expect(worst.err, worst.name).toBeLessThan(5e-3);
    model.dispose();
  });
});

describe('backend selection', () => {
  /** initBackend in a fresh process (the choice is once per process): its JSON and its stderr. */
  const run = (backend: string | undefined) => {
    const env = { ...process.env };
    if (backend === undefined) delete env.FLOWLM_BACKEND;
    else env.FLOWLM_BACKEND = backend;
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        TS_IMPORT,
        '-e',
        "import('./src/nn/backend/backend.ts').then(async (m) => console.log(JSON.stringify(await m.initBackend()))).catch((e) => console.log(JSON.stringify({ error: e.message })))",
      ],
      { cwd: join(import.meta.dirname, '../..'), env, encoding: 'utf8' },
    );
    return {
      choice: JSON.parse(r.stdout.trim().split('\n').pop()!) as { name?: string; line?: string; error?: string },
      stderr: r.stderr,
    };
  };
  const nativeInstalled = (() => {
    try {
      createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
      return true;
    } catch {
      return false;
    }
  })();

  it('honours FLOWLM_BACKEND=cpu', () => {
    const { choice, stderr } = run('cpu');
    expect(choice.name).toBe('cpu');
    expect(stderr).toContain('flowlm: tfjs backend cpu (plain JS) — forced by FLOWLM_BACKEND');
  });

  it.skipIf(nativeInstalled)('chooses wasm when the native bindings are absent, and says why on stderr', () => {
    const { choice, stderr } = run(undefined);
    expect(choice.name).toBe('wasm');
    expect(stderr).toMatch(
      /^flowlm: tfjs backend wasm \((simd|no simd), \d+ threads?(, native kernels: matmul \(OpenBLAS\), attention, head \+ cross-entropy, GELU, layer norm, AdamW)?( \+ 1 head thread)?\) — tfjs-node-gpu not installed, tfjs-node not installed$/m,
    );
  });

  it('rejects an unknown FLOWLM_BACKEND, naming the valid ones', () => {
    expect(run('tpu').choice.error).toContain('use one of node-gpu, node, wasm, cpu');
  });
});
