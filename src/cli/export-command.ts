// `flowlm export --checkpoint <dir> --format safetensors --out FILE`: a checkpoint's weights under
// GPT-2's tensor names (the model's own names), which PyTorch's safetensors loader reads; the training
// config goes into the file's metadata; `--dtype bf16|f16` stores it in 2 bytes a value (rounded to nearest
// even, as PyTorch's `.to(dtype)`). `--format peft` writes a LoRA, prefix tuning or P-tuning run's
// adapter as Hugging Face PEFT saves one (src/nn/adapters/peft-export.ts, peft-export-prompt.ts): a
// directory with adapter_model.safetensors and adapter_config.json.
import { parseArgs } from 'node:util';
import { loadCheckpoint, valuesOf, withShapes, type NamedTensors } from '../nn/checkpoint/index.ts';
import { writeSafetensors, type SafetensorsDtype } from '../nn/checkpoint/safetensors.ts';
import { UsageError, type CliIO } from './io.ts';
import { z } from 'zod';
import { writePeftAdapter } from '../nn/adapters/peft-export.ts';
import { peftPromptType } from '../nn/adapters/peft-export-prompt.ts';
import { initBackend } from '../nn/backend/backend.ts';
import { adapterOnlyRef, adapterOnlyValues } from '../nn/checkpoint/adapter-only.ts';
import { mergedValues } from '../nn/adapters/merge.ts';
import { paramSpecs } from '../nn/model/params.ts';
import { gptConfig, gptConfigSchema } from '../nn/model/config.ts';
import type { LoadedCheckpoint } from '../nn/checkpoint/index.ts';

export const EXPORT_HELP = `Usage: flowlm export --checkpoint DIR --format safetensors|peft --out FILE|DIR
       [--dtype f32|bf16|f16] [--json]

Writes a checkpoint's weights (a step-NNNNNN directory, or a run directory: its latest).
  --format safetensors   one file: GPT-2 tensor names (wte.weight, h.0.attn.c_attn.weight, ...), float32; metadata:
                         format=pt, flowlm_step, flowlm_config (the training config as JSON). A LoRA run's
                         adapters are merged into the weights (W + scale (B A)^T): a plain GPT-2
  --format peft          a LoRA, prefix tuning or P-tuning run's adapter as the directory PEFT's save_pretrained
                         writes: adapter_model.safetensors and adapter_config.json. LoRA: PEFT's tensor names
                         (base_model.model.transformer.h.N.attn.c_attn.lora_A.weight, ...), r, lora_alpha,
                         target_modules, fan_in_fan_out true. Prefix (and P-tuning v2, PEFT's PREFIX_TUNING
                         without projection): prompt_embeddings [n, layers*2*dModel], the key/value prefixes
                         after the projection MLP; P-tuning v1 (P_TUNING): prompt_embeddings [n, dModel], the
                         prompt encoder's output. Both for inference (inference_mode true, as PEFT saves them)
  --dtype f32|bf16|f16   safetensors element type (default f32, the weights exactly): bf16 or f16 halve the file,
                         rounded to nearest even as PyTorch's .to(torch.bfloat16) / .half(); f16 turns |w| >= 65520
                         into inf and |w| < 2^-24 into 0, bf16 keeps float32's range with 8 significant bits
  --json                 one JSON object {path, bytes, tensors, step, dtype} on stdout`;

const DTYPES: Record<string, SafetensorsDtype> = { f32: 'F32', bf16: 'BF16', f16: 'F16' };

export async function exportCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      checkpoint: { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string', short: 'o' },
      dtype: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(EXPORT_HELP);
    return 0;
  }
  if (!values.checkpoint) throw new UsageError('--checkpoint DIR is required', 'export');
  if (!values.out) throw new UsageError('--out FILE is required', 'export');
  const format = values.format ?? 'safetensors';
  if (format !== 'safetensors' && format !== 'peft')
    throw new UsageError(`--format ${format} is not supported; use safetensors or peft`, 'export');
  const dtypeFlag = values.dtype ?? 'f32';
  const dtype = Object.hasOwn(DTYPES, dtypeFlag) ? DTYPES[dtypeFlag]! : undefined;
  if (!dtype) throw new UsageError(`--dtype ${dtypeFlag} is not supported; use f32, bf16 or f16`, 'export');
  if (format === 'peft' && dtype !== 'F32')
    throw new UsageError(
      `--dtype ${dtypeFlag} applies to --format safetensors; PEFT adapters are written as f32`,
      'export',
    );
  const ck = await loadCheckpoint(values.checkpoint);
  if (format === 'peft') return exportPeft(ck, values.out, values.json === true, io);
  const written = await writeSafetensors(values.out, await weightsOf(ck), {
    metadata: { format: 'pt', flowlm_step: String(ck.step), flowlm_config: JSON.stringify(ck.state.config) },
    dtype,
  });
  if (values.json)
    io.out(
      JSON.stringify({
        path: written.path,
        bytes: written.bytes,
        tensors: written.names.length,
        step: ck.step,
        dtype: dtypeFlag,
      }),
    );
  else
    io.out(
      `wrote ${written.names.length} ${dtypeFlag} tensors (${(written.bytes / 1e6).toFixed(1)} MB) of ${ck.dir} ` +
        `to ${written.path}`,
    );
  return 0;
}

const Recorded = z.object({ modelConfig: gptConfigSchema });

/** The checkpoint's weights as a plain GPT-2's: a LoRA run's with the adapters merged into them (PEFT's
 * merge_and_unload; an adapter-only checkpoint's base comes from where the run got it). */
async function weightsOf(ck: LoadedCheckpoint): Promise<NamedTensors> {
  const r = Recorded.safeParse(ck.state.config);
  const cfg = r.success ? gptConfig(r.data.modelConfig) : undefined;
  if (!cfg?.lora) return ck.params;
  const ref = adapterOnlyRef(ck.state);
  const values = ref ? await adapterOnlyValues(ck, ref, paramSpecs(cfg), cfg) : valuesOf(ck.params);
  const merged = mergedValues(cfg, values);
  const shapes = new Map(paramSpecs(cfg).map((s) => [s.name, s.shape]));
  return withShapes(merged, shapes);
}

async function exportPeft(ck: LoadedCheckpoint, out: string, json: boolean, io: CliIO): Promise<number> {
  const r = Recorded.safeParse(ck.state.config);
  if (!r.success)
    throw new Error(`${ck.dir}: state.json's config has no usable modelConfig; was it written by flowlm train?`);
  const cfg = gptConfig(r.data.modelConfig);
  const prompt = peftPromptType(cfg);
  if (!cfg.lora && !prompt)
    throw new UsageError(
      `${ck.dir} is not a LoRA run, nor a prefix or P-tuning one (its modelConfig has none of lora, prefix, ` +
        'ptuning); use --format safetensors',
      'export',
    );
  // the prompt encoders run (tfjs) to give PEFT's saved prompt_embeddings
  if (prompt) await initBackend({ announce: (l) => io.err(l) });
  // PEFT's config has no word for a trained base: say which base the prompts belong to
  if (prompt && (cfg.prefix?.freezeBase === false || cfg.ptuning?.freezeBase === false))
    io.err(
      `note: ${ck.dir}'s run trained its base too (freezeBase: false): the prompts reproduce it only on this ` +
        "checkpoint's own weights (--format safetensors), not on the base it started from",
    );
  const written = await writePeftAdapter(out, cfg, ck.params, {
    baseModel: adapterOnlyRef(ck.state)?.base ?? null,
    metadata: { flowlm_step: String(ck.step) },
  });
  if (json)
    io.out(JSON.stringify({ dir: written.dir, bytes: written.bytes, tensors: written.names.length, step: ck.step }));
  else {
    const kind = cfg.lora ? 'LoRA' : prompt;
    io.out(`wrote a PEFT ${kind} adapter (${written.names.length} tensors) of ${ck.dir} to ${written.dir}`);
  }
  return 0;
}
