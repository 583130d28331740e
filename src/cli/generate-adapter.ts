// `flowlm generate --checkpoint BASE --adapter DIR`: the model DIR's fine-tuning run recorded (its
// config names the adapter: lora, prefix or ptuning), with every base parameter from BASE and every
// adapter parameter from DIR. Refused, with the reason, when BASE is not the model the adapter was
// trained on: another shape, or (adapter-only checkpoints record it) other base values.
import { z } from 'zod';
import { adapterOnlyRef, frozenSpecs, valuesSha256 } from '../nn/checkpoint/adapter-only.ts';
import { loadCheckpoint } from '../nn/checkpoint/index.ts';
import type { LoadedModel } from '../nn/checkpoint/load-model.ts';
import { matchParams } from '../nn/checkpoint/match-params.ts';
import type { NamedTensors } from '../nn/checkpoint/types.ts';
import { gptConfig, gptConfigSchema, type GptConfig } from '../nn/model/config.ts';
import { Gpt } from '../nn/model/gpt.ts';
import { paramSpecs } from '../nn/model/params.ts';

const Recorded = z.object({ encoding: z.string().default('gpt2'), modelConfig: gptConfigSchema });

/** The fields that decide what the base weights compute; an adapter is only valid on the same ones. */
const BASE_FIELDS = [
  'vocabSize',
  'contextLength',
  'nLayer',
  'nHead',
  'dModel',
  'mlpRatio',
  'activation',
  'positions',
  'norm',
  'causal',
  'tiedHead',
  'layerNormEps',
] as const satisfies readonly (keyof GptConfig)[];

function recorded(state: unknown, dir: string, what: string): { encoding: string; cfg: GptConfig } {
  const r = Recorded.safeParse(state);
  if (!r.success)
    throw new Error(
      `${what} ${dir}: state.json's config has no usable modelConfig (${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}); was it written by flowlm train?`,
    );
  return { encoding: r.data.encoding, cfg: gptConfig(r.data.modelConfig) };
}

export async function loadWithAdapter(baseDir: string, adapterDir: string): Promise<LoadedModel & { adapter: string }> {
  const ad = await loadCheckpoint(adapterDir);
  const { encoding, cfg } = recorded(ad.state.config, ad.dir, '--adapter');
  if (!cfg.lora && !cfg.prefix && !cfg.ptuning)
    throw new Error(
      `--adapter ${ad.dir}: its run's model config names no adapter (lora, prefix or ptuning); generate from it ` +
        `with --checkpoint alone`,
    );
  const base = await loadCheckpoint(baseDir);
  const baseCfg = recorded(base.state.config, base.dir, '--checkpoint').cfg;
  const differ = BASE_FIELDS.filter((k) => baseCfg[k] !== cfg[k]);
  if (differ.length > 0)
    throw new Error(
      `--adapter ${ad.dir} was trained on another model than --checkpoint ${base.dir}: ${differ.map((k) => `${k} ${cfg[k]} vs ${baseCfg[k]}`).join(', ')}; give the base checkpoint the adapter's run started from`,
    );
  const specs = paramSpecs(cfg);
  const adapterSpecs = specs.filter((s) => s.adapter !== undefined);
  const baseSpecs = specs.filter((s) => s.adapter === undefined);
  const extra = [...ad.params.keys()].filter((n) => baseSpecs.some((s) => s.name === n));
  if (extra.length > 0)
    throw new Error(
      `--adapter ${ad.dir} holds base parameters too (${extra[0]}, ...: a full checkpoint, e.g. freezeBase: false); ` +
        `generate from it with --checkpoint alone`,
    );
  const baseValues = matchParams(baseSpecs, onlyNames(base.params, baseSpecs), `--checkpoint ${base.dir}`);
  const ref = adapterOnlyRef(ad.state);
  if (ref) {
    const frozen = frozenSpecs(specs, cfg).map((s) => s.name);
    const sha = valuesSha256(baseValues, frozen);
    if (sha !== ref.baseSha256)
      throw new Error(
        `--adapter ${ad.dir} was trained on other base weights (${ref.base ?? `seed ${ref.seed}`}) than --checkpoint ${base.dir} holds; give the step directory the adapter's run started from`,
      );
  }
  const adapterValues = matchParams(adapterSpecs, ad.params, `--adapter ${ad.dir}`);
  const model = Gpt.create(cfg, { values: new Map([...baseValues, ...adapterValues]) });
  return { model, encoding, step: base.step, dir: base.dir, adapter: ad.dir };
}

/** The tensors of `all` that `specs` name: a base checkpoint may carry heads or adapters of its own. */
function onlyNames(all: NamedTensors, specs: readonly { name: string }[]): NamedTensors {
  const keep = new Set(specs.map((s) => s.name));
  return new Map([...all].filter(([n]) => keep.has(n)));
}
