// `flowlm tokenizer train`: train a byte-level BPE, WordPiece or Unigram tokenizer on files (or the
// embedded corpus) and write it as Hugging Face tokenizer.json (and tiktoken ranks for BPE). The
// pipeline (pipelines/tokenizer-train.ts) is loaded by path (tokenizer-contract.ts) and run like
// `flowlm run` runs one: progress on stderr, signals, --json; the report adds MB/s and the vocabulary.
import { parseArgs } from 'node:util';
import type { RunResult } from '../runtime/run.ts';
import { defaultRegistry, type Registry } from '../graph/registry.ts';
import { executePipeline, parseCount, resolveSpec, runSettings } from './run-command.ts';
import {
  loadTokenizerTrainBuilder,
  TOKENIZER_PIPELINE,
  TOKENIZER_TRAIN_NODE,
  TOKENIZER_TYPES,
  type TokenizerTrainOptions,
  type TokenizerTypeName,
} from './tokenizer-contract.ts';
import { tokenizerHelp } from './tokenizer-help.ts';
import { UsageError, type CliIO } from './io.ts';

const OPTIONS = {
  input: { type: 'string', multiple: true, short: 'i' },
  type: { type: 'string' },
  vocab: { type: 'string' },
  out: { type: 'string', short: 'o' },
  tiktoken: { type: 'string' },
  'max-memory-mb': { type: 'string' },
  special: { type: 'string', multiple: true },
  'no-lowercase': { type: 'boolean' },
  'min-frequency': { type: 'string' },
  json: { type: 'boolean' },
  progress: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The figures of a finished run, from the training node's counters. */
export function trainFigures(r: RunResult) {
  const c = r.nodes[TOKENIZER_TRAIN_NODE]?.counters ?? {};
  const seconds = r.durationMs / 1000;
  const mb = (c.bytes ?? 0) / 1e6;
  return {
    vocab: c.vocab ?? 0,
    merges: c.merges ?? 0,
    megabytes: Math.round(mb * 100) / 100,
    seconds: Math.round(seconds * 100) / 100,
    mbPerSecond: Math.round((mb / Math.max(seconds, 1e-3)) * 100) / 100,
    distinctPieces: c.distinct ?? 0,
    spills: c.spills ?? 0,
    countMs: c.countMs ?? 0,
    trainMs: c.trainMs ?? 0,
  };
}

/** A positive integer flag, its error pointing at this command's help. */
function count(flag: string, text: string): number {
  try {
    return parseCount(flag, text);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), 'tokenizer');
  }
}

export async function tokenizerCommand(
  argv: string[],
  io: CliIO,
  registry: Registry = defaultRegistry,
): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    (sub === undefined ? io.err : io.out)(tokenizerHelp());
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'train') throw new UsageError(`unknown subcommand "tokenizer ${sub}" (known: train)`, 'tokenizer');
  let values;
  try {
    ({ values } = parseArgs({ args: rest, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), 'tokenizer');
  }
  if (values.help) {
    io.out(tokenizerHelp());
    return 0;
  }
  const type = (values.type ?? 'bpe') as TokenizerTypeName;
  if (!TOKENIZER_TYPES.includes(type))
    throw new UsageError(`--type expects one of ${TOKENIZER_TYPES.join(', ')}, got "${values.type}"`, 'tokenizer');
  if (values.vocab === undefined) throw new UsageError('--vocab N is required (the vocabulary size)', 'tokenizer');
  if (values.out === undefined)
    throw new UsageError('--out FILE is required (the tokenizer.json to write)', 'tokenizer');
  if (values.tiktoken !== undefined && type !== 'bpe')
    throw new UsageError(`--tiktoken writes BPE ranks: it needs --type bpe (got ${type})`, 'tokenizer');
  const o: TokenizerTrainOptions = { type, vocabSize: count('vocab', values.vocab), out: values.out };
  if (values.input?.length) o.inputs = values.input;
  if (values.tiktoken !== undefined) o.tiktoken = values.tiktoken;
  if (values['max-memory-mb'] !== undefined) o.maxMemoryMB = count('max-memory-mb', values['max-memory-mb']);
  if (values.special?.length) o.specials = values.special;
  if (values['no-lowercase']) o.lowercase = false;
  if (values['min-frequency'] !== undefined) o.minFrequency = count('min-frequency', values['min-frequency']);

  const { mode, budget } = runSettings(values, 'tokenizer');
  const load = async () =>
    resolveSpec((await loadTokenizerTrainBuilder())(o), [], budget, registry, TOKENIZER_PIPELINE);
  return executePipeline(load, io, {
    json: values.json ?? false,
    mode,
    source: TOKENIZER_PIPELINE,
    report: {
      json: (_p, r) => ({ tokenizer: { type, files: r.sinks.flatMap((s) => s.files), ...trainFigures(r) } }),
      human: (_p, r) => {
        const f = trainFigures(r);
        return [
          `trained ${type}: vocab ${f.vocab}${type === 'unigram' ? '' : `, ${f.merges} merges`} from ${f.megabytes} MB ` +
            `(${f.distinctPieces} distinct pieces${f.spills ? `, ${f.spills} count spills` : ''})`,
          `${f.mbPerSecond} MB/s: ${f.seconds} s in all, counting ${(f.countMs / 1000).toFixed(2)} s, training ${(f.trainMs / 1000).toFixed(2)} s`,
        ].join('\n');
      },
    },
  });
}
