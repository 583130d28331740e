// Adapter-only checkpoints: a run whose base model is frozen (LoRA, prefix, P-tuning) stores only the
// parameters it trains and their optimizer state. The frozen base comes back from where the run got it:
// `init.from` (another checkpoint), or the seed when it had none. state.extra.adapterOnly records that
// reference and the sha256 of the base values, so a base that changed since (a run directory that has
// moved on to a later step) is refused rather than silently giving a different model.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { GptConfig } from '../model/config.ts';
import { initialValues, type ParamSpec } from '../model/params.ts';
import { baseFrozen, trainableSpecs } from '../adapters/trainable.ts';
import { loadCheckpoint, resolveCheckpointDir } from './load.ts';
import type { Gpt } from '../model/gpt.ts';
import { matchParams } from './match-params.ts';
import type { LoadedCheckpoint, TrainingState } from './types.ts';

export const adapterOnlyRefSchema = z.object({
  /** the init.from the run started from; null: the base is the seed's initialisation */
  base: z.string().nullable(),
  seed: z.number().int(),
  /** sha256 of the base (frozen) values, float32 bytes in spec order */
  baseSha256: z.string(),
});
export type AdapterOnlyRef = z.infer<typeof adapterOnlyRefSchema>;

/** The reference an adapter-only checkpoint records, or undefined for a checkpoint of every parameter. */
export function adapterOnlyRef(state: TrainingState): AdapterOnlyRef | undefined {
  const extra = state.extra as { adapterOnly?: unknown } | null | undefined;
  if (extra?.adapterOnly === undefined || extra.adapterOnly === null) return undefined;
  const r = adapterOnlyRefSchema.safeParse(extra.adapterOnly);
  if (!r.success) throw new Error(`checkpoint: state.extra.adapterOnly is malformed (${r.error.issues[0]?.message})`);
  return r.data;
}

/** The specs a frozen-base run does not train (its base), in spec order. */
export function frozenSpecs(specs: readonly ParamSpec[], cfg: GptConfig): ParamSpec[] {
  const trained = new Set(trainableSpecs(specs, cfg).map((s) => s.name));
  return specs.filter((s) => !trained.has(s.name));
}

/** sha256 of `values` taken in `names` order (float32 bytes). */
export function valuesSha256(values: ReadonlyMap<string, Float32Array>, names: readonly string[]): string {
  const h = createHash('sha256');
  for (const n of names) {
    const v = values.get(n);
    if (!v) throw new Error(`valuesSha256: no values for ${n}`);
    h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
  return h.digest('hex');
}

/** The base values of a frozen-base model as `ref` names them: init.from's parameters or the seed's. */
export async function baseValuesOf(
  ref: { base: string | null; seed: number },
  specs: readonly ParamSpec[],
  cfg: GptConfig,
): Promise<Map<string, Float32Array>> {
  const frozen = frozenSpecs(specs, cfg);
  if (ref.base === null) {
    const all = initialValues(cfg, ref.seed);
    return new Map(frozen.map((s) => [s.name, all.get(s.name)!]));
  }
  const ck = await loadCheckpoint(ref.base);
  return matchParams(frozen, ck.params, `adapter-only checkpoint's base ${ck.dir}`);
}

/** Every parameter of a model from an adapter-only checkpoint: the base as recorded, checked against
 * the recorded sha256, and the checkpoint's own (trained) parameters. */
export async function adapterOnlyValues(
  ck: LoadedCheckpoint,
  ref: AdapterOnlyRef,
  specs: readonly ParamSpec[],
  cfg: GptConfig,
): Promise<Map<string, Float32Array>> {
  const base = await baseValuesOf(ref, specs, cfg);
  const frozen = frozenSpecs(specs, cfg).map((s) => s.name);
  const sha = valuesSha256(base, frozen);
  if (sha !== ref.baseSha256)
    throw new Error(
      `${ck.dir}: adapter-only checkpoint's base (${ref.base ?? `seed ${ref.seed}`}) has sha256 ${sha}, the run trained on ${ref.baseSha256}; ` +
        'point init.from at the exact step directory the run started from (a run directory resolves to its latest ' +
        'step)',
    );
  const trained = matchParams(trainableSpecs(specs, cfg), ck.params, `${ck.dir} (adapter-only)`);
  return new Map([...base, ...trained]);
}

/** What a fresh run's adapter-only checkpoints will record (undefined when the base trains too): the
 * init.from step directory itself, as a run directory's latest may move on before this run resumes. */
export async function freshAdapterRef(
  model: Gpt,
  initFrom: string | undefined,
  seed: number,
): Promise<AdapterOnlyRef | undefined> {
  if (!baseFrozen(model.config, model.specs)) return undefined;
  const base = initFrom === undefined ? null : await resolveCheckpointDir(initFrom);
  const names = frozenSpecs(model.specs, model.config).map((s) => s.name);
  return { base, seed, baseSha256: valuesSha256(model.getParams(), names) };
}
