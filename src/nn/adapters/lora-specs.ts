// LoRA's parameter shapes (lora.ts has the forward pass): plain TypeScript without tfjs, so the
// parameter list (params.ts) and the plans and budgets built from it load no tensor library.
import { mlpWidth, type GptConfig } from '../model/config.ts';
import type { ParamSpec } from '../model/params.ts';
import { LORA_TARGETS, type LoraTarget } from './lora-config.ts';

/** [in, out] of a target projection's Conv1D weight. */
export function targetShape(cfg: GptConfig, target: LoraTarget): [number, number] {
  const d = cfg.dModel;
  const f = mlpWidth(cfg);
  switch (target) {
    case 'attn.c_attn':
      return [d, 3 * d];
    case 'attn.c_proj':
      return [d, d];
    case 'mlp.c_fc':
      return [d, f];
    case 'mlp.c_proj':
      return [f, d];
  }
}

/** The adapted projections (e.g. `h.0.attn.c_attn`), layer by layer, targets in LORA_TARGETS order. */
export function loraModules(cfg: GptConfig): { module: string; target: LoraTarget }[] {
  const lora = cfg.lora;
  if (!lora) return [];
  const out: { module: string; target: LoraTarget }[] = [];
  for (let i = 0; i < cfg.nLayer; i++)
    for (const t of LORA_TARGETS) if (lora.targets.includes(t)) out.push({ module: `h.${i}.${t}`, target: t });
  return out;
}

/** The LoRA parameters of `cfg` (none without `cfg.lora`): per adapted projection A, then B. */
export function loraSpecs(cfg: GptConfig): ParamSpec[] {
  const lora = cfg.lora;
  if (!lora) return [];
  return loraModules(cfg).flatMap(({ module, target }) => {
    const [nIn, nOut] = targetShape(cfg, target);
    return [
      // 'weight' kind: AdamW decays them, as PyTorch's AdamW does every parameter it is given
      {
        name: `${module}.lora_A.weight`,
        shape: [lora.r, nIn],
        kind: 'weight',
        init: { uniform: 1 / Math.sqrt(nIn) },
        adapter: 'lora',
      },
      { name: `${module}.lora_B.weight`, shape: [nOut, lora.r], kind: 'weight', init: 'zeros', adapter: 'lora' },
    ] satisfies ParamSpec[];
  });
}
