// Tokenization: the text column becomes a `tokens` List<Int32> column (DESIGN §3 Tokens), with an
// end-of-text token after each document and optionally a begin token before it. A pure batch kernel,
// so `workers: N` runs it on the worker pool. Text is encoded as ordinary text: a special-token
// string inside a document (say "<|endoftext|>") is tokenized like any other text, never as the
// special token, as tiktoken's encode_ordinary does, so documents cannot forge document boundaries.
// `tokenizer: FILE` encodes with a loaded tokenizer instead of a tiktoken encoding: a Hugging Face
// tokenizer.json, a SentencePiece .model or a .tiktoken ranks file (load/load-tokenizer.ts).
import { Utf8 as Utf8Type, type Int32, type List, type Utf8 } from 'apache-arrow';
import { isMainThread } from 'node:worker_threads';
import { z } from 'zod';
import type { RowSpec } from '../../src/core/row-kernel.ts';
import { defineRowOperator, rowRejectsConfig } from '../../src/core/row-operator.ts';
import { sharedInt32 } from '../../src/runtime/shared-memory.ts';
import { schemaOf } from '../../src/schema/index.ts';
import { ENCODINGS, ranksData, specialTokenId, type EncodingName } from './engine/encodings.ts';
import { createEngine, ENGINES, type TokenEngine } from './engine/engines.ts';
import { IdBuffer } from './engine/id-buffer.ts';
import { loadTokenizer } from './load/load-tokenizer.ts';
import type { LoadedTokenizer } from './load/loaded-tokenizer.ts';
import { textTransform } from './transforms.ts';
import { tokensField, tokensVector } from './tokens-column.ts';

type Text = { text: Utf8 };
type Out = { tokens: List<Int32> };

// a special token's name: "<|endoftext|>" in a tiktoken encoding, "</s>" or "[SEP]" in a loaded file
const special = z.union([z.boolean(), z.string().min(1)]);
const Config = z
  .object({
    tokenizer: z
      .string()
      .min(1)
      .optional()
      .describe(
        'a tokenizer file to encode with instead of `encoding`: a Hugging Face tokenizer.json, a SentencePiece ' +
          '.model or a .tiktoken ranks file',
      ),
    encoding: z
      .enum(ENCODINGS)
      .default('cl100k')
      .describe("tiktoken encoding of the ids: gpt2, r50k, p50k, cl100k (GPT-3.5/4's) or o200k (GPT-4o's)"),
    engine: z
      .enum(ENGINES)
      .default('flowlm')
      .describe('flowlm (fast default), js-tiktoken (reference) or tiktoken-wasm; all give the same ids'),
    eos: special
      .default(true)
      .describe(
        "token after each document: true for <|endoftext|> (a loaded tokenizer's end token: its template's, " +
          'or </s>, <|endoftext|>, [SEP]...), a special token name, or false for none',
      ),
    bos: special
      .optional()
      .describe(
        "token before each document: true for <|endoftext|> (a loaded tokenizer's begin token), a special token " +
          "name, or false for none; unset: none, or what a loaded tokenizer.json's template adds (Llama's <s>)",
      ),
    form: z.enum(['none', 'NFC', 'NFKC']).default('none').describe('Unicode normalisation before encoding'),
    controls: z
      .boolean()
      .default(false)
      .describe('remove control characters other than tab and newline before encoding (CR LF, CR, U+2028/9 to LF)'),
    whitespace: z
      .boolean()
      .default(false)
      .describe(
        'normalise whitespace before encoding (CR LF to LF, runs of spaces to one, at most two newlines in a row, ' +
          'trimmed)',
      ),
    lowercase: z.boolean().default(false).describe('lower-case before encoding'),
    keepText: z.boolean().default(false).describe('keep the text column next to the tokens'),
    cacheEntries: z
      .number()
      .int()
      .min(1024)
      .default(1 << 16)
      .describe('flowlm engine: pieces per cache generation (memory: about 140 bytes per entry)'),
    reuse: z
      .enum(['run', 'thread'])
      .default('run')
      .describe(
        "an encoding's engine and piece cache: new for each run, or one per thread and settings, kept across runs " +
          '(a process running many short pipelines, such as a cluster worker, keeps its cache warm); a tokenizer ' +
          "file's engine is always one per thread",
      ),
    ...rowRejectsConfig,
  })
  .superRefine((c, ctx) => {
    if (c.tokenizer !== undefined) {
      // the file must load and have the special tokens asked for (checked here so specs fail validation)
      try {
        const t = loadTokenizer(c.tokenizer, { cacheEntries: c.cacheEntries });
        specialsOf(c, t);
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: ['tokenizer'], message: (e as Error).message });
      }
      return;
    }
    // a named special token must exist in the chosen encoding (checked here so specs fail validation)
    for (const key of ['bos', 'eos'] as const) {
      const v = c[key];
      const specials = typeof v === 'string' ? Object.keys(ranksData(c.encoding).special_tokens) : [];
      if (typeof v === 'string' && !specials.includes(v))
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `encoding ${c.encoding} has no special token ${v} (it has ${specials.join(', ')})`,
        });
    }
  });
type Cfg = z.output<typeof Config>;

const textSchema = () => schemaOf<Text>({ text: { type: new Utf8Type() } });

/** The id of a configured special token, or -1 for none. */
function specialOf(encoding: EncodingName, v: boolean | string | undefined): number {
  if (v === false || v === undefined) return -1;
  return specialTokenId(encoding, v === true ? '<|endoftext|>' : v);
}

/** The begin and end ids (-1: none) of a loaded tokenizer; throws naming what the file lacks. */
function specialsOf(c: Cfg, t: LoadedTokenizer): { bos: number; eos: number } {
  const id = (key: 'bos' | 'eos', v: boolean | string | undefined, configured: string | undefined) => {
    // unset bos: the file's own habit (a tokenizer.json template's "<s> $A"; none for spm and tiktoken)
    if (v === false || (v === undefined && (key === 'eos' || !t.addsBos))) return -1;
    const name = typeof v === 'string' ? v : configured;
    const have = [...t.specials.keys()].join(', ') || 'none';
    if (name === undefined)
      throw new Error(
        `${t.source} configures no ${key === 'eos' ? 'end-of-text' : 'begin'} token; set ${key}: false or name one ` +
          `of its special tokens (${have})`,
      );
    const got = t.specials.get(name);
    if (got === undefined) throw new Error(`${t.source} has no special token ${name} (it has ${have})`);
    return got;
  };
  return { bos: id('bos', c.bos, t.bos), eos: id('eos', c.eos, t.eos) };
}

/** The encoder, begin and end ids of a config: a loaded tokenizer's or a tiktoken encoding's. */
function encoderOf(cfg: Cfg): { engine: { encode(text: string, out: IdBuffer): void }; bos: number; eos: number } {
  if (cfg.tokenizer !== undefined) {
    const t = loadTokenizer(cfg.tokenizer, { cacheEntries: cfg.cacheEntries });
    return { engine: t, ...specialsOf(cfg, t) };
  }
  return { engine: engineOf(cfg), bos: specialOf(cfg.encoding, cfg.bos), eos: specialOf(cfg.encoding, cfg.eos) };
}

// reuse 'thread': engines by settings, for this thread's life (module state is per thread)
const engines = new Map<string, TokenEngine>();

/** The engine an encoding config tokenizes with: a new one, or this thread's for the same settings. */
export function engineOf(cfg: Pick<Cfg, 'engine' | 'encoding' | 'cacheEntries' | 'reuse'>): TokenEngine {
  if (cfg.reuse === 'run') return createEngine(cfg.engine, cfg.encoding, { cacheEntries: cfg.cacheEntries });
  const key = `${cfg.engine}\0${cfg.encoding}\0${cfg.cacheEntries}`;
  let e = engines.get(key);
  if (!e) engines.set(key, (e = createEngine(cfg.engine, cfg.encoding, { cacheEntries: cfg.cacheEntries })));
  return e;
}

// One engine per kernel, so per worker thread: its piece cache warms up over the batches the thread
// sees (reuse 'thread': and over later runs' batches too). (A tiktoken-wasm engine's memory is freed
// with the thread.) The batch-level fast path: every
// kept row's ids go into one buffer, and the tokens column is made from it once, after the last row.
function rows(cfg: Cfg): RowSpec<Out> {
  const { engine, bos, eos } = encoderOf(cfg);
  const transform = textTransform(cfg);
  return {
    nulls: { drop: 'tokenize.null_text' },
    missing: "tokenize reads documents' text",
    columns: { tokens: tokensField().type },
    // text goes unless kept; a tokens column the input had is replaced by the new one, last
    removes: cfg.keepText ? ['tokens'] : ['text', 'tokens'],
    rejects: cfg.rejects,
    batch: (input, t) => {
      const rows = input.numRows;
      let bytes = 0;
      for (const d of input.getChild('text')!.data) bytes += d.values.byteLength;
      // about one id per 4-5 bytes of prose; the buffer doubles when text needs more. On a worker thread
      // it is in shared memory: the reply hands it to the main thread in place (runtime/ipc.ts), where
      // a private buffer was copied into a shared message body, 4 bytes per token once more.
      const ids = new IdBuffer((bytes >> 2) + 2 * rows + 64, isMainThread ? undefined : sharedInt32);
      const offsets = new Int32Array(rows + 1);
      let kept = 0;
      return {
        row: (text: string) => {
          if (bos >= 0) ids.push(bos);
          engine.encode(transform ? transform(text) : text, ids);
          if (eos >= 0) ids.push(eos);
          offsets[++kept] = ids.length;
          return true;
        },
        finish: (n) => {
          t.count('tokens', ids.length);
          // the column wraps the id buffer as is, unless much of it would be unused capacity (a shared
          // one is always wrapped: a trimmed copy would be copied once more into the reply; the main
          // thread holds the spare capacity only until the ids are packed)
          const all =
            ids.data.buffer instanceof SharedArrayBuffer || ids.data.length <= ids.length * 1.25
              ? ids.view()
              : ids.data.slice(0, ids.length);
          return { tokens: tokensVector(all, n < rows ? offsets.subarray(0, n + 1) : offsets) };
        },
      };
    },
  };
}

export const tokenize = defineRowOperator({
  id: 'tokenize/tokenize',
  description:
    'BPE tokenization (gpt2, r50k, p50k, cl100k, o200k) of the text column into tokens List<Int32>, EOS after each ' +
    'document',
  module: import.meta.url,
  config: Config,
  input: textSchema,
  passthrough: true,
  output: () => schemaOf<Out>({ tokens: { type: tokensField().type } }),
  removes: (cfg) => (cfg.keepText ? [] : ['text']),
  rows,
});
