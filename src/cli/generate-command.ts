// `flowlm generate --checkpoint <dir> --prompt "..."`: loads a trained model and its tokenizer (the
// encoding its training config recorded) and prints the prompt's continuation on stdout. With
// `--adapter DIR` the base weights come from --checkpoint and the adapter (LoRA, prefix, P-tuning) from
// DIR, a checkpoint of a fine-tuning run whose config names it (generate-adapter.ts).
import { getEncoding } from 'js-tiktoken';
import { parseArgs } from 'node:util';
import { Rng } from '../runtime/rng.ts';
import { initBackend } from '../nn/backend/backend.ts';
import { loadModel, tiktokenName, type LoadedModel } from '../nn/checkpoint/load-model.ts';
import { loadWithAdapter } from './generate-adapter.ts';
import { generateTokens } from '../nn/model/sample.ts';
import { UsageError, type CliIO } from './io.ts';

export const GENERATE_HELP = `Usage: flowlm generate --checkpoint DIR --prompt TEXT [--adapter DIR] [--max-tokens N]
                       [--temperature T] [--top-k K] [--top-p P] [--seed S] [--json]

Samples a continuation of TEXT from a checkpoint (a step-NNNNNN directory or a run directory: its latest).
  --adapter DIR     the adapter (LoRA, prefix, P-tuning) of a fine-tuning run's checkpoint on top of
                    --checkpoint's base weights; the model is the one DIR's run recorded
  --max-tokens N    new tokens at most (default 100); stops early at <|endoftext|>
  --temperature T   0 = greedy (default 0.8)
  --top-k K         keep the K most likely tokens (default 0: all)
  --top-p P         nucleus: the most likely tokens up to probability P (default 1: all)
  --seed S          the same seed gives the same sample (default 0)
  --json            one JSON object {prompt, text, tokens, checkpoint, step[, adapter]} instead of the text`;

function num(name: string, v: string | undefined, dflt: number, ok: (x: number) => boolean): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  if (!Number.isFinite(x) || !ok(x)) throw new UsageError(`--${name}: "${v}" is out of range`, 'generate');
  return x;
}

export async function generateCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      checkpoint: { type: 'string' },
      adapter: { type: 'string' },
      prompt: { type: 'string' },
      'max-tokens': { type: 'string' },
      temperature: { type: 'string' },
      'top-k': { type: 'string' },
      'top-p': { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(GENERATE_HELP);
    return 0;
  }
  if (!values.checkpoint)
    throw new UsageError(
      '--checkpoint DIR is required (a run directory or one of its step-NNNNNN directories)',
      'generate',
    );
  if (values.prompt === undefined) throw new UsageError('--prompt TEXT is required', 'generate');
  const maxTokens = num('max-tokens', values['max-tokens'], 100, (x) => Number.isInteger(x) && x >= 1);
  const temperature = num('temperature', values.temperature, 0.8, (x) => x >= 0);
  const topK = num('top-k', values['top-k'], 0, (x) => Number.isInteger(x) && x >= 0);
  const topP = num('top-p', values['top-p'], 1, (x) => x > 0 && x <= 1);
  const seed = num('seed', values.seed, 0, Number.isSafeInteger);

  await initBackend({ announce: (l) => io.err(l) });
  const loaded: LoadedModel & { adapter?: string } = values.adapter
    ? await loadWithAdapter(values.checkpoint, values.adapter)
    : await loadModel(values.checkpoint);
  const { model, encoding, step, dir, adapter } = loaded;
  try {
    const enc = getEncoding(tiktokenName(encoding));
    const eot = enc.encode('<|endoftext|>', 'all')[0];
    const prompt = values.prompt === '' && eot !== undefined ? [eot] : enc.encode(values.prompt, [], []);
    const tokens = generateTokens(model, prompt, { maxTokens, temperature, topK, topP, stopToken: eot }, new Rng(seed));
    const text = enc.decode(tokens);
    if (values.json) io.out(JSON.stringify({ prompt: values.prompt, text, tokens, checkpoint: dir, step, adapter }));
    else io.out(values.prompt + text);
    return 0;
  } finally {
    model.dispose();
  }
}
