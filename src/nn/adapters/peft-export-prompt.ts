// Prefix tuning and P-tuning adapters as Hugging Face PEFT saves them (save_pretrained of a prompt-learning
// PeftModel): adapter_model.safetensors holds one tensor, `prompt_embeddings` (BasePromptEncoder.
// _get_adapter_state_dict -> PeftModel.get_prompt_embedding_to_save: the prompt encoder's output for
// arange(num_virtual_tokens), batch row 0), and adapter_config.json has inference_mode true (save_pretrained
// always writes it so). Loaded that way, PEFT builds only an embedding of that shape, copies the tensor in
// and uses it as is (get_prompt's inference_mode branch), so the reparametrising encoder is not needed:
//   - PREFIX_TUNING: [num_virtual_tokens, num_layers*2*token_dim], the key/value prefixes flattened; with
//     prefix_projection it is the Linear-tanh-Linear output, without it the embedding table itself.
//     get_prompt views it [batch, n, num_layers*2, heads, head_dim], permutes [2, 0, 3, 1, 4] and splits by
//     2: layer l's keys are row block 2l, its values 2l+1, flowlm's own layout (prefix.ts).
//   - P_TUNING (flowlm's v1): [num_virtual_tokens, token_dim], the prompt encoder's output (MLP or LSTM).
//   - flowlm's P-tuning v2 (deep prompts) is a prefix without projection: PEFT has no P-tuning v2 type and
//     represents it exactly as PREFIX_TUNING with prefix_projection false (its docs call it that).
// As with PEFT's own files, the encoder's weights are not saved: the adapter serves inference, not further
// training of the encoder (from_pretrained(is_trainable=True) would feed the saved output to a new encoder).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { NamedTensor, NamedTensors } from '../checkpoint/types.ts';
import { writeSafetensors } from '../checkpoint/safetensors.ts';
import type { GptConfig } from '../model/config.ts';
import type { PeftWritten } from './peft-export.ts';
import { prefixKeyValues } from './prefix.ts';
import { prefixSettings, prefixSpecs } from './prefix-specs.ts';
import { virtualTokenEmbeddings } from './ptuning.ts';
import { ptuningSpecs } from './ptuning-specs.ts';

/** The tensor name PEFT saves (and loads) a prompt-learning adapter under. */
export const PEFT_PROMPT_TENSOR = 'prompt_embeddings';

export type PeftPromptType = 'PREFIX_TUNING' | 'P_TUNING';

/** Which PEFT prompt-learning type `cfg`'s adapter exports as, or undefined when it has none. */
export function peftPromptType(cfg: GptConfig): PeftPromptType | undefined {
  if (prefixSettings(cfg)) return 'PREFIX_TUNING';
  if (cfg.ptuning?.version === 'v1') return 'P_TUNING';
  return undefined;
}

/** adapter_config.json as PEFT's PrefixTuningConfig / PromptEncoderConfig serialises it (asdict, keys
 * sorted), with the fields get_peft_model fills from a GPT-2 config (n_layer, n_embd, n_head) set. */
export function peftPromptConfig(cfg: GptConfig, baseModel: string | null): Record<string, unknown> {
  const type = peftPromptType(cfg);
  if (!type) throw new Error('peft export: the model config has no prefix or ptuning field to export');
  const common = {
    auto_mapping: null,
    base_model_name_or_path: baseModel,
    inference_mode: true,
    modules_to_save: null,
    num_attention_heads: cfg.nHead,
    num_layers: cfg.nLayer,
    // a decoder-only model: one transformer submodule (2 is for encoder-decoder models)
    num_transformer_submodules: 1,
    peft_type: type,
    revision: null,
    task_type: 'CAUSAL_LM',
    token_dim: cfg.dModel,
  };
  if (type === 'PREFIX_TUNING') {
    const s = prefixSettings(cfg)!;
    return sortedKeys({
      ...common,
      encoder_hidden_size: s.hidden,
      init_weights: s.init === 'zero' ? 'zero' : null,
      num_virtual_tokens: s.numVirtualTokens,
      prefix_projection: s.projection,
    });
  }
  const p = cfg.ptuning!;
  return sortedKeys({
    ...common,
    encoder_dropout: 0, // flowlm's LSTM has no dropout between layers
    encoder_hidden_size: p.encoderHiddenSize ?? cfg.dModel,
    encoder_num_layers: p.encoderNumLayers,
    encoder_reparameterization_type: p.encoder === 'lstm' ? 'LSTM' : 'MLP',
    num_virtual_tokens: p.numVirtualTokens,
  });
}

const sortedKeys = (o: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));

/** PEFT's `prompt_embeddings` for `cfg`'s prefix or P-tuning v1 adapter, from a checkpoint's tensors (all
 * of the model's or an adapter-only checkpoint's): run through flowlm's own forward code, so a loaded PEFT
 * model sees exactly the prefixes or virtual tokens flowlm trained with. */
export function peftPromptEmbeddings(cfg: GptConfig, params: NamedTensors): NamedTensor {
  const type = peftPromptType(cfg);
  if (!type) throw new Error('peft export: the model config has no prefix or ptuning field to export');
  const specs = type === 'PREFIX_TUNING' ? prefixSpecs(cfg) : ptuningSpecs(cfg);
  for (const s of specs)
    if (!params.has(s.name))
      throw new Error(`peft export: the checkpoint has no ${s.name}; export a checkpoint of this ${type} run`);
  const lookup = (name: string): tf.Tensor => {
    const t = params.get(name);
    if (!t) throw new Error(`peft export: the checkpoint has no ${name}`);
    return tf.tensor(t.values, t.shape);
  };
  const n = specs[0]!.shape[0]!;
  return tf.tidy(() => {
    if (type === 'P_TUNING') {
      const v = virtualTokenEmbeddings(cfg, lookup)!;
      return { shape: [n, cfg.dModel], values: v.dataSync() as Float32Array };
    }
    // back from the per-layer [heads, n, headDim] keys and values to PEFT's flat row per virtual token:
    // [layers*2, heads, n, headDim] -> [n, layers*2, heads, headDim] (pure data movement, exact)
    const past = prefixKeyValues(cfg, lookup).flatMap((kv) => [kv.k, kv.v]);
    const flat = tf
      .stack(past)
      .transpose([2, 0, 1, 3])
      .reshape([n, cfg.nLayer * 2 * cfg.dModel]);
    return { shape: [n, cfg.nLayer * 2 * cfg.dModel], values: flat.dataSync() as Float32Array };
  });
}

/** Writes `outDir`/adapter_model.safetensors (`prompt_embeddings`) and adapter_config.json for `cfg`'s
 * prefix or P-tuning adapter. */
export async function writePeftPromptAdapter(
  outDir: string,
  cfg: GptConfig,
  params: NamedTensors,
  o: { baseModel?: string | null; metadata?: Record<string, string> } = {},
): Promise<PeftWritten> {
  const tensors: NamedTensors = new Map([[PEFT_PROMPT_TENSOR, peftPromptEmbeddings(cfg, params)]]);
  await mkdir(outDir, { recursive: true });
  const written = await writeSafetensors(join(outDir, 'adapter_model.safetensors'), tensors, {
    metadata: { format: 'pt', ...o.metadata },
  });
  const config = peftPromptConfig(cfg, o.baseModel ?? null);
  await writeFile(join(outDir, 'adapter_config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return { dir: outDir, names: written.names, bytes: written.bytes };
}
