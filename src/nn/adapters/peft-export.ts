// A LoRA adapter as Hugging Face PEFT saves one (save_pretrained): adapter_model.safetensors with the
// adapter tensors under PEFT's names for a GPT2LMHeadModel (base_model.model.transformer.h.N.<module>.
// lora_A.weight [r, in], lora_B.weight [out, r]; the adapter name "default" is not in saved names) and
// adapter_config.json (LoraConfig's fields; fan_in_fan_out true: GPT-2's Conv1D stores W as [in, out]).
// PeftModel.from_pretrained(GPT2LMHeadModel(...), dir) then loads it. Prefix tuning and P-tuning export
// as PEFT's prompt-learning adapters (peft-export-prompt.ts); writePeftAdapter picks by the config.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NamedTensors } from '../checkpoint/types.ts';
import { writeSafetensors } from '../checkpoint/safetensors.ts';
import type { GptConfig } from '../model/config.ts';
import { loraSpecs } from './lora-specs.ts';
import { peftPromptType, writePeftPromptAdapter } from './peft-export-prompt.ts';

/** Where PEFT puts a GPT-2 transformer's tensors inside a PeftModelForCausalLM. */
export const PEFT_GPT2_PREFIX = 'base_model.model.transformer.';

export const peftName = (name: string): string => `${PEFT_GPT2_PREFIX}${name}`;

/** adapter_config.json for `cfg.lora`, as peft's LoraConfig serialises it (the fields flowlm has). */
export function peftAdapterConfig(cfg: GptConfig, baseModel: string | null): Record<string, unknown> {
  const lora = cfg.lora;
  if (!lora)
    throw new Error('peft export: the model config has no lora field (peftPromptConfig serves prefix and P-tuning)');
  return {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: baseModel,
    r: lora.r,
    lora_alpha: lora.alpha,
    lora_dropout: lora.dropout,
    // suffixes of module names (h.0.attn.c_attn ends with .attn.c_attn): attn.c_proj and mlp.c_proj stay apart
    target_modules: [...lora.targets],
    fan_in_fan_out: true,
    bias: 'none',
    use_rslora: lora.rslora,
    init_lora_weights: true,
    modules_to_save: null,
    inference_mode: true,
    layers_to_transform: null,
    layers_pattern: null,
    rank_pattern: {},
    alpha_pattern: {},
  };
}

export interface PeftWritten {
  dir: string;
  /** tensor names as written */
  names: string[];
  bytes: number;
}

/** Writes `outDir`/adapter_model.safetensors and adapter_config.json from a checkpoint's tensors
 * (all of the model's, or an adapter-only checkpoint's) for `cfg`'s adapter: LoRA, or a prefix / P-tuning
 * one (writePeftPromptAdapter); every tensor of the adapter must be there. */
export async function writePeftAdapter(
  outDir: string,
  cfg: GptConfig,
  params: NamedTensors,
  o: { baseModel?: string | null; metadata?: Record<string, string> } = {},
): Promise<PeftWritten> {
  const prompt = peftPromptType(cfg);
  // a PeftModel holds one method; PeftMixedModel combines LoRA-like tuners only, not prompt learning
  if (cfg.lora && prompt)
    throw new Error(
      `peft export: the model has both LoRA and ${cfg.prefix ? 'prefix' : 'ptuning'} adapters, which no single PEFT ` +
        'adapter directory holds (PeftMixedModel mixes LoRA-like tuners only, not prompt learning); export a run ' +
        'with one adapter, or use --format safetensors',
    );
  if (prompt) return writePeftPromptAdapter(outDir, cfg, params, o);
  const specs = loraSpecs(cfg);
  if (specs.length === 0)
    throw new Error('peft export: the model config has no lora, prefix or ptuning field: no adapter to export');
  const tensors: NamedTensors = new Map();
  for (const s of specs) {
    const t = params.get(s.name);
    if (!t) throw new Error(`peft export: the checkpoint has no ${s.name}; export a checkpoint of this LoRA run`);
    tensors.set(s.name, t);
  }
  await mkdir(outDir, { recursive: true });
  const written = await writeSafetensors(join(outDir, 'adapter_model.safetensors'), tensors, {
    mapName: peftName,
    metadata: { format: 'pt', ...o.metadata },
  });
  const config = peftAdapterConfig(cfg, o.baseModel ?? null);
  await writeFile(join(outDir, 'adapter_config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return { dir: outDir, names: written.names, bytes: written.bytes };
}
