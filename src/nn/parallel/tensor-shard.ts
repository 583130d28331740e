// Megatron-LM's tensor-parallel split of a GPT's parameters (Shoeybi et al. 2019), on GPT-2's names and
// Conv1D layout [in, out]. Rank r of `tp` holds: attention c_attn by columns per head group (q, k and v
// each cut so the rank has heads [r H/tp, (r+1) H/tp)), MLP c_fc / c_gate by columns, both c_proj
// weights by rows (their biases replicated: added once, after the all-reduce), and the token embedding
// (and an untied lm_head) by vocabulary rows, the vocabulary padded with zero rows to a multiple of tp.
// LayerNorms and wpe are replicated. unshardParams is the exact inverse (padding dropped).
import type { GptConfig } from '../model/config.ts';
import { mlpWidth } from '../model/config.ts';
import { paramSpecs, sizeOf, type ParamSpec } from '../model/params.ts';

/** How a parameter is split: 'qkv' is columns within each of its three equal groups. */
export type TensorLayout = 'replicated' | 'vocab' | 'column' | 'qkv' | 'row';

export interface TensorShardSpec extends ParamSpec {
  layout: TensorLayout;
  /** the full model's shape (the vocabulary unpadded) */
  fullShape: number[];
}

/** The vocabulary rounded up to a multiple of tp: every rank holds the same number of rows. */
export const paddedVocabSize = (vocabSize: number, tp: number): number => Math.ceil(vocabSize / tp) * tp;

/** Throws, naming the setting, on a config or tp this implementation does not split. */
export function checkTensorParallel(cfg: GptConfig, tp: number): void {
  const fail = (what: string) => {
    throw new Error(`tensor parallelism (tp ${tp}): ${what}`);
  };
  if (!Number.isInteger(tp) || tp < 1) fail('tp must be an integer >= 1');
  if (cfg.nHead % tp !== 0) fail(`nHead ${cfg.nHead} must be divisible by tp; choose tp among its divisors`);
  if (mlpWidth(cfg) % tp !== 0) fail(`the MLP width ${mlpWidth(cfg)} must be divisible by tp`);
  if (cfg.norm !== 'pre') fail("only pre-LN blocks are supported; set norm: 'pre'");
  if (cfg.docMasking) fail('docMasking is not supported; set docMasking: false');
  if (cfg.dropout > 0 || cfg.attnDropout > 0 || cfg.dropPath > 0)
    fail('dropout, attnDropout and dropPath must be 0 (dropout would need per-rank mask streams)');
  if (cfg.lora || cfg.prefix || cfg.ptuning || cfg.rewardHead)
    fail('adapters (lora, prefix, ptuning) and the reward head are not supported; remove them');
}

/** How the parameter `name` (a GPT-2 name) is split. */
export function tensorLayout(name: string): TensorLayout {
  if (name === 'wte.weight' || name === 'lm_head.weight') return 'vocab';
  if (/^h\.\d+\.attn\.c_attn\.(weight|bias)$/.test(name)) return 'qkv';
  if (/^h\.\d+\.mlp\.c_(fc|gate)\.(weight|bias)$/.test(name)) return 'column';
  if (/^h\.\d+\.(attn|mlp)\.c_proj\.weight$/.test(name)) return 'row';
  return 'replicated';
}

function shardShape(shape: number[], layout: TensorLayout, cfg: GptConfig, tp: number): number[] {
  const last = shape.length - 1;
  switch (layout) {
    case 'replicated':
      return [...shape];
    case 'vocab':
      return [paddedVocabSize(cfg.vocabSize, tp) / tp, shape[1]!];
    case 'row':
      return [shape[0]! / tp, shape[1]!];
    case 'column':
    case 'qkv':
      return shape.map((n, i) => (i === last ? n / tp : n));
  }
}

/** Every parameter of a shard, in paramSpecs order, with the shard's shape. */
export function tensorShardSpecs(cfg: GptConfig, tp: number): TensorShardSpec[] {
  checkTensorParallel(cfg, tp);
  return paramSpecs(cfg).map((s) => {
    const layout = tensorLayout(s.name);
    return { ...s, layout, fullShape: [...s.shape], shape: shardShape(s.shape, layout, cfg, tp) };
  });
}

/** Calls `copy(fullOffset, shardOffset, length)` for every contiguous run of rank `rank`'s elements. */
function forEachRun(
  spec: TensorShardSpec,
  tp: number,
  rank: number,
  copy: (full: number, shard: number, n: number) => void,
): void {
  const full = spec.fullShape;
  const cols = full.length === 2 ? full[1]! : full[0]!;
  const rows = full.length === 2 ? full[0]! : 1;
  if (spec.layout === 'replicated') return copy(0, 0, sizeOf(full));
  if (spec.layout === 'vocab' || spec.layout === 'row') {
    // rows [rank * per, (rank + 1) * per), those past the real vocabulary being padding
    const per = spec.shape[0]!;
    const r0 = rank * per;
    const real = Math.max(0, Math.min(per, rows - r0));
    return copy(r0 * cols, 0, real * cols);
  }
  const groups = spec.layout === 'qkv' ? 3 : 1;
  const width = cols / groups / tp; // columns per group this rank holds
  const shardCols = width * groups;
  for (let r = 0; r < rows; r++)
    for (let g = 0; g < groups; g++)
      copy(r * cols + g * (cols / groups) + rank * width, r * shardCols + g * width, width);
}

/** Rank `rank`'s values of every parameter, from the full model's values (by name). */
export function shardParams(
  cfg: GptConfig,
  full: ReadonlyMap<string, Float32Array>,
  tp: number,
  rank: number,
): Map<string, Float32Array> {
  if (!(Number.isInteger(rank) && rank >= 0 && rank < tp))
    throw new Error(`shardParams: rank ${rank} is outside [0, ${tp})`);
  const out = new Map<string, Float32Array>();
  for (const spec of tensorShardSpecs(cfg, tp)) {
    const src = full.get(spec.name);
    if (!src || src.length !== sizeOf(spec.fullShape))
      throw new Error(
        `shardParams: ${spec.name} is ${src ? `${src.length} values` : 'missing'}, expected [${spec.fullShape}]`,
      );
    const dst = new Float32Array(sizeOf(spec.shape)); // padding rows stay zero
    forEachRun(spec, tp, rank, (f, s, n) => dst.set(src.subarray(f, f + n), s));
    out.set(spec.name, dst);
  }
  return out;
}

/** The full model's values from every rank's shard (shards[r] is rank r's); replicated parameters are
 * taken from rank 0. The exact inverse of shardParams. */
export function unshardParams(
  cfg: GptConfig,
  shards: readonly ReadonlyMap<string, Float32Array>[],
): Map<string, Float32Array> {
  const tp = shards.length;
  const out = new Map<string, Float32Array>();
  for (const spec of tensorShardSpecs(cfg, tp)) {
    const dst = new Float32Array(sizeOf(spec.fullShape));
    shards.forEach((shard, rank) => {
      if (spec.layout === 'replicated' && rank > 0) return;
      const src = shard.get(spec.name);
      if (!src || src.length !== sizeOf(spec.shape))
        throw new Error(
          `unshardParams: ${spec.name} of rank ${rank} is ${src ? `${src.length} values` : 'missing'}, expected [${spec.shape}]`,
        );
      forEachRun(spec, tp, rank, (f, s, n) => dst.set(src.subarray(s, s + n), f));
    });
    out.set(spec.name, dst);
  }
  return out;
}
