// Folding LoRA into the base weights and back (PEFT's merge / unmerge; merge_and_unload): for each
// adapted Conv1D weight W [in, out], W += scale * (B A)^T, i.e. W[i][o] += scale * sum_k A[k][i] B[o][k].
// The product is summed in float64 and added to the float32 weights once, so unmerge after merge
// restores W to within float32 rounding of W itself.
import type { GptConfig } from '../model/config.ts';
import type { Gpt } from '../model/gpt.ts';
import { paramSpecs } from '../model/params.ts';
import { loraScale } from './lora-config.ts';
import { loraModules, targetShape } from './lora-specs.ts';

/** scale * (B A)^T as a Conv1D-layout [in, out] array, float64. */
export function loraDelta(a: Float32Array, b: Float32Array, r: number, nIn: number, nOut: number, scale: number) {
  const out = new Float64Array(nIn * nOut);
  for (let o = 0; o < nOut; o++)
    for (let k = 0; k < r; k++) {
      const bk = scale * b[o * r + k]!;
      if (bk === 0) continue;
      for (let i = 0; i < nIn; i++) out[i * nOut + o]! += a[k * nIn + i]! * bk;
    }
  return out;
}

/** The base weights with the adapters' updates added (`sign` -1 subtracts), by name; only adapted ones.
 * `read` gives a parameter's current values. */
function shiftedValues(cfg: GptConfig, read: (name: string) => Float32Array, sign: 1 | -1): Map<string, Float32Array> {
  const lora = cfg.lora;
  if (!lora) throw new Error('LoRA merge: this model has no LoRA adapters (config.lora is unset)');
  const values = new Map<string, Float32Array>();
  for (const { module, target } of loraModules(cfg)) {
    const [nIn, nOut] = targetShape(cfg, target);
    const d = loraDelta(
      read(`${module}.lora_A.weight`),
      read(`${module}.lora_B.weight`),
      lora.r,
      nIn,
      nOut,
      loraScale(lora),
    );
    const w = Float32Array.from(read(`${module}.weight`));
    for (let i = 0; i < w.length; i++) w[i] = w[i]! + sign * d[i]!;
    values.set(`${module}.weight`, w);
  }
  return values;
}

const shifted = (model: Gpt, sign: 1 | -1) =>
  shiftedValues(model.config, (n) => model.param(n).dataSync() as Float32Array, sign);

/** Adds the LoRA updates into the base weights in place; the forward then skips the adapters. */
export function mergeLora(model: Gpt): void {
  if (model.loraMerged) throw new Error('mergeLora: the adapters are merged already; unmergeLora first');
  model.setParams(shifted(model, 1));
  model.loraMerged = true;
}

/** Subtracts the merged LoRA updates again; the forward applies the adapters once more. */
export function unmergeLora(model: Gpt): void {
  if (!model.loraMerged) throw new Error('unmergeLora: the adapters are not merged; mergeLora first');
  model.setParams(shifted(model, -1));
  model.loraMerged = false;
}

/** The base model's parameters with the adapters folded in (merge_and_unload): a plain GPT's values,
 * for a model config without `lora`. */
export function mergedBaseValues(model: Gpt): Map<string, Float32Array> {
  const all = model.getParams();
  return model.loraMerged ? baseOnly(model.config, all, new Map()) : mergedValues(model.config, all);
}

/** `mergedBaseValues` from plain values (every parameter of `cfg`, by name), as an export needs. */
export function mergedValues(cfg: GptConfig, values: ReadonlyMap<string, Float32Array>): Map<string, Float32Array> {
  const read = (n: string) => {
    const v = values.get(n);
    if (!v) throw new Error(`LoRA merge: no values for ${n}`);
    return v;
  };
  return baseOnly(cfg, values, shiftedValues(cfg, read, 1));
}

/** The parameters of `cfg` without its LoRA adapters, `merged` in place of the adapted weights. */
function baseOnly(
  cfg: GptConfig,
  values: ReadonlyMap<string, Float32Array>,
  merged: ReadonlyMap<string, Float32Array>,
): Map<string, Float32Array> {
  const { lora: _, ...base } = cfg;
  const out = new Map<string, Float32Array>();
  for (const s of paramSpecs(base)) out.set(s.name, merged.get(s.name) ?? values.get(s.name)!);
  return out;
}
