// The GPT's parameters as a flat list of named tensors, with GPT-2's (Hugging Face) tensor names and
// Conv1D layout ([in, out], y = x W + b), so exports load into PyTorch GPT-2 code unchanged.
// SwiGLU models add h.N.mlp.c_gate (same layout as c_fc). Initialisation is GPT-2's, drawn from a
// seeded generator in the fixed order of `paramSpecs`.
import { Rng } from '../../runtime/rng.ts';
import { mlpWidth, type GptConfig } from './config.ts';
import { loraSpecs } from '../adapters/lora-specs.ts';
import { prefixSpecs } from '../adapters/prefix-specs.ts';
import { ptuningSpecs } from '../adapters/ptuning-specs.ts';
import { scalarHeadSpecs } from './scalar-head-specs.ts';

/** What a parameter is, for weight-decay exclusion rules. */
export type ParamKind = 'weight' | 'bias' | 'norm' | 'embedding';

export interface ParamSpec {
  name: string;
  shape: number[];
  kind: ParamKind;
  init: { normal: number } | 'zeros' | 'ones' | { uniform: number };
  /** Set on parameters an adapter adds (src/nn/adapters); with an adapter configured only these train. */
  adapter?: 'lora' | 'prefix' | 'ptuning' | 'value_head' | 'reward_head';
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Every parameter of `cfg`, in the order they are initialised and stored. */
export function paramSpecs(cfg: GptConfig): ParamSpec[] {
  const d = cfg.dModel;
  const f = mlpWidth(cfg);
  const std = cfg.initStd;
  // GPT-2 scales the projections into the residual stream by 1/sqrt(2 * layers)
  const projStd = std / Math.sqrt(2 * cfg.nLayer);
  const specs: ParamSpec[] = [
    { name: 'wte.weight', shape: [cfg.vocabSize, d], kind: 'embedding', init: { normal: std } },
  ];
  if (cfg.positions === 'learned')
    specs.push({ name: 'wpe.weight', shape: [cfg.contextLength, d], kind: 'embedding', init: { normal: std } });
  const norm = (name: string) =>
    [
      { name: `${name}.weight`, shape: [d], kind: 'norm', init: 'ones' },
      { name: `${name}.bias`, shape: [d], kind: 'norm', init: 'zeros' },
    ] satisfies ParamSpec[];
  const dense = (name: string, nIn: number, nOut: number, wStd: number) =>
    [
      { name: `${name}.weight`, shape: [nIn, nOut], kind: 'weight', init: { normal: wStd } },
      { name: `${name}.bias`, shape: [nOut], kind: 'bias', init: 'zeros' },
    ] satisfies ParamSpec[];
  for (let i = 0; i < cfg.nLayer; i++) {
    const h = `h.${i}`;
    specs.push(
      ...norm(`${h}.ln_1`),
      ...dense(`${h}.attn.c_attn`, d, 3 * d, std),
      ...dense(`${h}.attn.c_proj`, d, d, projStd),
      ...norm(`${h}.ln_2`),
      ...dense(`${h}.mlp.c_fc`, d, f, std),
      // SwiGLU's gate projection (mlp.ts), initialised like c_fc; only swiglu models have it, so the
      // tensors (and initial draws) of gelu and relu models are GPT-2's exactly
      ...(cfg.activation === 'swiglu' ? dense(`${h}.mlp.c_gate`, d, f, std) : []),
      ...dense(`${h}.mlp.c_proj`, f, d, projStd),
    );
  }
  // post-LN blocks end normalised already; only pre-LN needs the final norm
  if (cfg.norm === 'pre') specs.push(...norm('ln_f'));
  if (!cfg.tiedHead)
    specs.push({ name: 'lm_head.weight', shape: [cfg.vocabSize, d], kind: 'weight', init: { normal: std } });
  // adapters last, so a base model's initial values are the same draws with or without them
  specs.push(...loraSpecs(cfg));
  specs.push(...prefixSpecs(cfg), ...ptuningSpecs(cfg));
  // a reward model's head after them (objective 'reward'): score.* as Hugging Face's sequence classifiers
  if (cfg.rewardHead) specs.push(...scalarHeadSpecs(d, 'reward_head'));
  return specs;
}

/** Fills `out` with N(0, std) draws (Box-Muller, both values of each pair used). */
export function fillNormal(rng: Rng, out: Float32Array, std: number): void {
  for (let i = 0; i < out.length; i += 2) {
    const u = 1 - rng.next(); // (0, 1]: log(0) would be -inf
    const r = std * Math.sqrt(-2 * Math.log(u));
    const t = 2 * Math.PI * rng.next();
    out[i] = r * Math.cos(t);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(t);
  }
}

/** Fills `out` with U(-bound, bound) draws (LoRA's Kaiming-uniform A). */
export function fillUniform(rng: Rng, out: Float32Array, bound: number): void {
  for (let i = 0; i < out.length; i++) out[i] = bound * (2 * rng.next() - 1);
}

/** Fills `out` as `init` says, drawing from `rng` for the random ones. */
export function fillInit(rng: Rng, out: Float32Array, init: ParamSpec['init']): void {
  if (init === 'ones') out.fill(1);
  else if (init === 'zeros') out.fill(0);
  else if ('uniform' in init) fillUniform(rng, out, init.uniform);
  else fillNormal(rng, out, init.normal);
}

/** GPT-2 initial values for every parameter, deterministic in `seed`. */
export function initialValues(cfg: GptConfig, seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const values = new Map<string, Float32Array>();
  for (const p of paramSpecs(cfg)) {
    const v = new Float32Array(sizeOf(p.shape));
    values.set(p.name, v);
    fillInit(rng, v, p.init);
  }
  return values;
}
