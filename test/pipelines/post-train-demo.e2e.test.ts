// pipelines/post-train-demo.ts in small (3 pretraining steps, 2 fine-tuning steps each, one core, 4
// held-out emails): it prints the table and the JSON line; LoRA's trainable parameters are exactly the
// adapters of r 8 on the four projections of both blocks, under 2% of full fine-tuning's; the LoRA run's
// model (its adapter-only checkpoint loaded whole) has the base's weights bit for bit and trained
// adapters, while full fine-tuning changed the base's weights. Then the alignment half in small: a reward
// model (2 steps) scored on 8 of the 175 held-out pairs, PPO (2 iterations), DPO (3 steps), and the judges'
// figures of 2 held-out generations per policy.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { loadModel } from '../../src/nn/checkpoint/load-model.ts';
import type { AlignFigures } from '../../pipelines/post-train-align.ts';
import { lastJson, ROOT, TS_IMPORT } from '../cli/spawn.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-post-train-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const run = promisify(execFile);

interface RunRow {
  wordPerplexity: number;
  bitsPerByte: number;
  improvement: number;
  params: number;
  trainableParams: number;
  trainablePercentOfFull: number;
  tokensPerS: number;
  peakRssMb: number | null;
  checkpoint: string;
}

describe('the post-training demo (full fine-tuning and LoRA)', () => {
  it('prints the table and JSON; LoRA trains only r=8 adapters and leaves the base weights as they were', async () => {
    const out = join(tmp, 'demo');
    const r = await run(
      process.execPath,
      [
        '--import',
        TS_IMPORT,
        'pipelines/post-train-demo.ts',
        '--pretrain-steps',
        '3',
        '--steps',
        '2',
        '--batch-size',
        '2',
        '--devices',
        'cpu:1',
        '--eval-limit',
        '4',
        ...['--rm-steps', '2', '--ppo-iterations', '2', '--ppo-batch', '4', '--dpo-steps', '3', '--kl-target', '5'],
        ...['--eval-prompts', '2', '--samples', '1', '--val-pairs', '8'],
        '--out',
        out,
      ],
      { cwd: ROOT, maxBuffer: 64 << 20, env: { ...process.env, FLOWLM_DEBUG: '' } },
    );
    expect(r.stdout).toMatch(/--- held-out ham \(4 emails\), 2 fine-tuning steps ---/);
    expect(r.stdout).toMatch(/^ {2}base\s+\d+\.\d\s+\d\.\d{4}$/m);
    expect(r.stdout).toMatch(/^ {2}full FT\s+\d/m);
    expect(r.stdout).toMatch(/^ {2}LoRA r=8\s+\d/m);
    expect(r.stdout).toMatch(/LoRA recovers -?\d+\.\d% of full fine-tuning's word-perplexity gain/);

    const s = lastJson(r.stdout) as {
      base: string;
      steps: number;
      evalDocs: number;
      before: { wordPerplexity: number; bitsPerByte: number };
      full: RunRow;
      lora: RunRow & { config: { r: number; alpha: number; targets: string[] } };
      loraShare: number;
      align: AlignFigures;
    };
    expect(s.steps).toBe(2);
    expect(s.evalDocs).toBe(4);
    for (const row of [s.full, s.lora]) {
      expect(row.wordPerplexity).toBeGreaterThan(1);
      expect(row.bitsPerByte).toBeGreaterThan(0);
      expect(row.improvement).toBeCloseTo(s.before.wordPerplexity - row.wordPerplexity, 6);
      expect(row.tokensPerS).toBeGreaterThan(0);
      expect(row.peakRssMb).toBeGreaterThan(50);
    }
    expect(s.loraShare).toBeCloseTo(s.lora.improvement / s.full.improvement, 9);

    // the demo's model: 2 blocks, d_model 64, MLP 4x, vocabulary 50257 (tied head), context 128
    const d = 64;
    // per block: ln_1, c_attn, attn c_proj, ln_2, c_fc, mlp c_proj (weights and biases); then ln_f
    const block = 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + 2 * d + (d * 4 * d + 4 * d) + (4 * d * d + d);
    const fullCount = 50257 * d + 128 * d + 2 * block + 2 * d;
    expect(s.full.trainableParams).toBe(fullCount);
    expect(s.full.params).toBe(fullCount);
    // LoRA r 8: A [in, r] and B [r, out] for c_attn (64->192), attn c_proj (64->64), c_fc (64->256), mlp c_proj (256->64)
    expect(s.lora.config.targets).toHaveLength(4);
    const loraCount = 2 * 8 * (64 + 192 + (64 + 64) + (64 + 256) + (256 + 64));
    expect(s.lora.trainableParams).toBe(loraCount);
    expect(s.lora.params).toBe(fullCount + loraCount);
    expect(s.lora.trainableParams / s.full.trainableParams).toBeLessThan(0.02);

    // the LoRA run's model: the base's weights exactly, adapters trained away from B = 0
    await initBackend();
    const base = (await loadModel(s.base)).model;
    const lora = (await loadModel(s.lora.checkpoint)).model;
    const full = (await loadModel(s.full.checkpoint)).model;
    const b = base.getParams();
    const l = lora.getParams();
    const f = full.getParams();
    const adapters = lora.specs.filter((x) => x.adapter === 'lora');
    expect(adapters.length).toBe(2 * 4 * 2);
    for (const spec of lora.specs) {
      if (spec.adapter !== undefined) continue;
      expect(Buffer.from(l.get(spec.name)!.buffer).equals(Buffer.from(b.get(spec.name)!.buffer)), spec.name).toBe(true);
    }
    const bs = adapters.filter((x) => x.name.endsWith('.lora_B.weight'));
    expect(bs.length).toBe(8);
    expect(bs.some((x) => l.get(x.name)!.some((v) => v !== 0))).toBe(true);
    const changed = base.specs.filter(
      (x) => !Buffer.from(f.get(x.name)!.buffer).equals(Buffer.from(b.get(x.name)!.buffer)),
    );
    expect(changed.length).toBeGreaterThan(0);
    for (const m of [base, lora, full]) m.dispose();

    // alignment from the full fine-tuned model, each stage as asked
    expect(r.stdout).toMatch(/--- alignment from the full fine-tuned model ---/);
    expect(r.stdout).toMatch(/reward model: held-out pair accuracy \d\.\d{3} on 8 pairs/);
    expect(r.stdout).toMatch(/^ {2}PPO\s+-?\d+\.\d{3}\s+-?\d+\.\d{3}\s+\d\.\d{3}/m);
    const a = s.align;
    expect(a.rewardModel).toMatchObject({ steps: 2, heldoutPairs: 8 }); // --val-pairs 8 of the 175
    expect(a.rewardModel.heldoutAccuracy).toBeGreaterThanOrEqual(0);
    expect(a.rewardModel.checkpoint).toMatch(/rm[/\\]step-000002$/);
    expect(a.ppo.iterations).toBe(2);
    // --ppo-batch 4: the run's own record (its checkpoint's config)
    const ppoState = JSON.parse(readFileSync(join(a.ppo.runDir, 'step-000002', 'state.json'), 'utf8')) as {
      config: { ppo: { batchSize: number; miniBatchSize: number } };
    };
    expect(ppoState.config.ppo).toMatchObject({ batchSize: 4, miniBatchSize: 2 });
    expect(a.ppo.score).toHaveLength(2);
    expect(a.ppo.kl).toHaveLength(2);
    expect(a.ppo.kl[0]).toBe(0); // the first rollouts come from the reference itself
    expect(a.ppo.klTarget).toBe(5);
    expect(a.ppo.rewardRise).toBeCloseTo(a.ppo.score[1]! - a.ppo.score[0]!, 9);
    expect(a.dpo.steps).toBe(3);
    expect(a.dpo.checkpoint).toMatch(/dpo[/\\]step-000003$/);
    for (const p of [a.judged.sft, a.judged.ppo, a.judged.dpo]) {
      expect(p.generations).toBe(2); // 2 prompts x 1 sample
      expect(Number.isFinite(p.reward)).toBe(true);
      expect(p.pHam).toBeGreaterThanOrEqual(0);
      expect(p.pHam).toBeLessThanOrEqual(1);
      expect(p.meanTokens).toBeGreaterThan(0);
    }
    expect(a.judged.sft.kl).toBe(0); // the SFT model against itself
    // PPO and DPO moved the policy: a KL to the SFT model that is not exactly zero
    expect(a.judged.ppo.kl).not.toBe(0);
    expect(a.judged.dpo.kl).not.toBe(0);
  }, 300_000);
});
