// `flowlm export --checkpoint <dir> --format safetensors --out FILE`: a checkpoint's weights under
// GPT-2's tensor names (the model's own names), which PyTorch's safetensors loader reads; the training
// config goes into the file's metadata.
import { parseArgs } from 'node:util';
import { loadCheckpoint } from '../nn/checkpoint/index.ts';
import { writeSafetensors } from '../nn/checkpoint/safetensors.ts';
import { UsageError, type CliIO } from './io.ts';

export const EXPORT_HELP = `Usage: flowlm export --checkpoint DIR --format safetensors --out FILE [--json]

Writes a checkpoint's weights (a step-NNNNNN directory, or a run directory: its latest) as one file.
  --format safetensors   GPT-2 tensor names (wte.weight, h.0.attn.c_attn.weight, ...), float32; metadata:
                         format=pt, flowlm_step, flowlm_config (the training config as JSON)
  --json                 one JSON object {path, bytes, tensors, step} on stdout`;

export async function exportCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      checkpoint: { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string', short: 'o' },
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
  if (format !== 'safetensors') throw new UsageError(`--format ${format} is not supported; use safetensors`, 'export');
  const ck = await loadCheckpoint(values.checkpoint);
  const written = await writeSafetensors(values.out, ck.params, {
    metadata: { format: 'pt', flowlm_step: String(ck.step), flowlm_config: JSON.stringify(ck.state.config) },
  });
  if (values.json)
    io.out(JSON.stringify({ path: written.path, bytes: written.bytes, tensors: written.names.length, step: ck.step }));
  else
    io.out(
      `wrote ${written.names.length} tensors (${(written.bytes / 1e6).toFixed(1)} MB) of ${ck.dir} to ${written.path}`,
    );
  return 0;
}
