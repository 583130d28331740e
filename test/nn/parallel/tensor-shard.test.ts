// The tensor-parallel split of a GPT's parameters: each slice checked against the full tensor's
// indices (q, k and v cut per head group, c_proj by rows, the vocabulary padded with zero rows), and
// unsharding giving back every tensor bit for bit.
import { describe, expect, it } from 'vitest';
import { gptConfig, type GptConfigInput } from '../../../src/nn/model/config.ts';
import { initialValues, paramSpecs } from '../../../src/nn/model/params.ts';
import {
  checkTensorParallel,
  paddedVocabSize,
  shardParams,
  tensorShardSpecs,
  unshardParams,
} from '../../../src/nn/parallel/tensor-shard.ts';

const BASE: GptConfigInput = { vocabSize: 1001, contextLength: 32, nLayer: 2, nHead: 4, dModel: 64, mlpRatio: 4 };

describe('tensor-parallel sharding', () => {
  for (const variant of [{}, { activation: 'swiglu' as const, tiedHead: false }]) {
    for (const tp of [1, 2, 4]) {
      it(`tp ${tp} ${JSON.stringify(variant)}: unshard(shard(values)) is the values exactly`, () => {
        const cfg = gptConfig({ ...BASE, ...variant });
        const full = initialValues(cfg, 7);
        const shards = Array.from({ length: tp }, (_, r) => shardParams(cfg, full, tp, r));
        const back = unshardParams(cfg, shards);
        expect([...back.keys()]).toEqual(paramSpecs(cfg).map((s) => s.name));
        for (const [name, v] of full) expect(back.get(name), name).toEqual(v);
        // every shard holds its share: the sharded parameters' sizes add up to the full ones (plus padding)
        const specs = tensorShardSpecs(cfg, tp);
        const pad = (paddedVocabSize(1001, tp) - 1001) * 64 * (cfg.tiedHead ? 1 : 2);
        const held = specs.reduce(
          (n, s) => n + (s.layout === 'replicated' ? 0 : s.shape.reduce((a, b) => a * b) * tp),
          0,
        );
        const shardedFull = specs.reduce(
          (n, s) => n + (s.layout === 'replicated' ? 0 : s.fullShape.reduce((a, b) => a * b)),
          0,
        );
        expect(held).toBe(shardedFull + pad);
      });
    }
  }

  it('tp 2 slices: q, k, v per head group, c_proj by rows, c_fc by columns, the vocabulary padded', () => {
    const cfg = gptConfig({ ...BASE, activation: 'swiglu' });
    const full = initialValues(cfg, 3);
    const d = 64,
      f = 256;
    for (const r of [0, 1]) {
      const s = shardParams(cfg, full, 2, r);
      const qkv = s.get('h.1.attn.c_attn.weight')!; // [64, 96]: q_r | k_r | v_r, 32 columns each (heads 2r, 2r+1)
      const fq = full.get('h.1.attn.c_attn.weight')!;
      for (const [i, j] of [
        [0, 0],
        [5, 31],
        [63, 17],
      ] as const)
        for (let g = 0; g < 3; g++) expect(qkv[i * 96 + g * 32 + j]).toBe(fq[i * 3 * d + g * d + r * 32 + j]);
      const qb = s.get('h.0.attn.c_attn.bias')!;
      expect(qb.length).toBe(96);
      const proj = s.get('h.0.attn.c_proj.weight')!; // rows [32 r, 32 r + 32)
      expect(proj).toEqual(full.get('h.0.attn.c_proj.weight')!.subarray(r * 32 * d, (r + 1) * 32 * d));
      expect(s.get('h.0.attn.c_proj.bias')).toEqual(full.get('h.0.attn.c_proj.bias'));
      const gate = s.get('h.0.mlp.c_gate.weight')!; // [64, 128]
      expect(gate[10 * 128 + 100]).toBe(full.get('h.0.mlp.c_gate.weight')![10 * f + r * 128 + 100]);
      const down = s.get('h.1.mlp.c_proj.weight')!;
      expect(down).toEqual(full.get('h.1.mlp.c_proj.weight')!.subarray(r * 128 * d, (r + 1) * 128 * d));
      expect(s.get('wpe.weight')).toEqual(full.get('wpe.weight'));
      const wte = s.get('wte.weight')!; // 501 rows each; rank 1's last row is the padding token 1001
      expect(wte.length).toBe(501 * d);
      expect(wte.subarray(0, d)).toEqual(full.get('wte.weight')!.subarray(r * 501 * d, (r * 501 + 1) * d));
      if (r === 1) expect(wte.subarray(500 * d).every((x) => x === 0)).toBe(true);
    }
  });

  it('names the unsupported settings', () => {
    expect(() => checkTensorParallel(gptConfig({ ...BASE }), 3)).toThrow(/nHead 4 must be divisible by tp/);
    expect(() => checkTensorParallel(gptConfig({ ...BASE, docMasking: true }), 2)).toThrow(/docMasking/);
    expect(() => checkTensorParallel(gptConfig({ ...BASE, dropout: 0.1 }), 2)).toThrow(/dropout/);
    expect(() => checkTensorParallel(gptConfig({ ...BASE, norm: 'post' }), 2)).toThrow(/pre-LN/);
  });
});
