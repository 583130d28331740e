// Tokenization: the text column becomes a `tokens` List<Int32> column (DESIGN §3 Tokens), with an
// end-of-text token after each document and optionally a begin token before it. A pure batch kernel,
// so `workers: N` runs it on the worker pool. Text is encoded as ordinary text: a special-token
// string inside a document (say "<|endoftext|>") is tokenized like any other text, never as the
// special token, as tiktoken's encode_ordinary does, so documents cannot forge document boundaries.
import { Field, RecordBatch, Schema, Struct, Utf8 as Utf8Type, makeData, type Data, type Int32, type List, type Utf8 } from 'apache-arrow';
import { isMainThread } from 'node:worker_threads';
import { z } from 'zod';
import { defineOperator } from '../../src/core/operator.ts';
import { sharedInt32 } from '../../src/runtime/shared-memory.ts';
import { kernelMap, withKernelStats } from '../../src/core/kernel-stats.ts';
import { schemaOf, takeRows } from '../../src/schema/index.ts';
import { ENCODINGS, ranksData, specialTokenId, type EncodingName } from './engine/encodings.ts';
import { createEngine, ENGINES } from './engine/engines.ts';
import { IdBuffer } from './engine/id-buffer.ts';
import { textTransform } from './transforms.ts';
import { tokensField, tokensVector } from './tokens-column.ts';

type Text = { text: Utf8 };
type Out = { tokens: List<Int32> };

const special = z.union([z.boolean(), z.string().regex(/^<\|.+\|>$/, 'a special token such as "<|endoftext|>"')]);
const Config = z.object({
  encoding: z.enum(ENCODINGS).default('cl100k'),
  engine: z.enum(ENGINES).default('flowlm').describe('flowlm (fast default), js-tiktoken (reference) or tiktoken-wasm; all give the same ids'),
  eos: special.default(true).describe('token after each document: true for <|endoftext|>, a special token name, or false for none'),
  bos: special.default(false).describe('token before each document: true for <|endoftext|>, a special token name, or false for none'),
  form: z.enum(['none', 'NFC', 'NFKC']).default('none').describe('Unicode normalisation before encoding'),
  controls: z.boolean().default(false).describe('remove control characters other than tab and newline before encoding (CR LF, CR, U+2028/9 to LF)'),
  whitespace: z.boolean().default(false).describe('normalise whitespace before encoding (CR LF to LF, runs of spaces to one, at most two newlines in a row, trimmed)'),
  lowercase: z.boolean().default(false).describe('lower-case before encoding'),
  keepText: z.boolean().default(false).describe('keep the text column next to the tokens'),
  cacheEntries: z.number().int().min(1024).default(1 << 16).describe('flowlm engine: pieces per cache generation (memory: about 140 bytes per entry)'),
}).superRefine((c, ctx) => {
  // a named special token must exist in the chosen encoding (checked here so specs fail validation)
  for (const key of ['bos', 'eos'] as const) {
    const v = c[key];
    const specials = typeof v === 'string' ? Object.keys(ranksData(c.encoding).special_tokens) : [];
    if (typeof v === 'string' && !specials.includes(v))
      ctx.addIssue({ code: 'custom', path: [key], message: `encoding ${c.encoding} has no special token ${v} (it has ${specials.join(', ')})` });
  }
});
type Cfg = z.output<typeof Config>;

const textSchema = () => schemaOf<Text>({ text: { type: new Utf8Type() } });

/** The id of a configured special token, or -1 for none. */
function specialOf(encoding: EncodingName, v: boolean | string): number {
  if (v === false) return -1;
  return specialTokenId(encoding, v === true ? '<|endoftext|>' : v);
}

// One engine per kernel, so per worker thread: its piece cache warms up over the batches the thread
// sees. (A tiktoken-wasm engine's memory is freed with the thread.)
const kernel = (cfg: Cfg) => {
  const engine = createEngine(cfg.engine, cfg.encoding, { cacheEntries: cfg.cacheEntries });
  const bos = specialOf(cfg.encoding, cfg.bos);
  const eos = specialOf(cfg.encoding, cfg.eos);
  const transform = textTransform(cfg);
  return (input: RecordBatch<Text>): RecordBatch<Out> => {
    const col = input.getChild('text');
    if (!col) throw new Error(`column "text" missing (batch has ${input.schema.names.join(', ')}); tokenize reads documents' text`);
    const rows = input.numRows;
    let bytes = 0;
    for (const d of col.data) bytes += d.values.byteLength;
    // about one id per 4-5 bytes of prose; the buffer doubles when text needs more. On a worker thread
    // it is in shared memory: the reply hands it to the main thread in place (runtime/ipc.ts), where
    // a private buffer was copied into a shared message body, 4 bytes per token once more.
    const ids = new IdBuffer((bytes >> 2) + 2 * rows + 64, isMainThread ? undefined : sharedInt32);
    const offsets = new Int32Array(rows + 1);
    let keep: number[] | undefined; // rows kept, once a null text was met
    let kept = 0;
    for (let r = 0; r < rows; r++) {
      const text = col.get(r);
      if (text === null) { keep ??= Array.from({ length: r }, (_, k) => k); continue; }
      keep?.push(r);
      if (bos >= 0) ids.push(bos);
      engine.encode(transform ? transform(text) : text, ids);
      if (eos >= 0) ids.push(eos);
      offsets[++kept] = ids.length;
    }
    // the column wraps the id buffer as is, unless much of it would be unused capacity (a shared one
    // is always wrapped: a trimmed copy would be copied once more into the reply; the main thread
    // holds the spare capacity only until the ids are packed)
    const all = ids.data.buffer instanceof SharedArrayBuffer || ids.data.length <= ids.length * 1.25 ? ids.view() : ids.data.slice(0, ids.length);
    const tokens = tokensVector(all, keep ? offsets.subarray(0, kept + 1) : offsets);
    const base = keep ? takeRows(input, keep) : input;
    const out = replaceColumns(base, cfg.keepText ? ['tokens'] : ['text', 'tokens'], tokensField(), tokens.data[0]!);
    const nulls = rows - kept;
    return withKernelStats(out, { drops: nulls > 0 ? { 'tokenize.null_text': nulls } : {}, counters: { tokens: ids.length } });
  };
};

/** `batch` without the columns named in `drop`, with `field` (holding `data`) appended. */
function replaceColumns(batch: RecordBatch, drop: string[], field: Field, data: Data): RecordBatch<Out> {
  const fields: Field[] = [];
  const children: Data[] = [];
  batch.schema.fields.forEach((f, k) => {
    if (!drop.includes(f.name)) { fields.push(f); children.push(batch.data.children[k]!); }
  });
  fields.push(field);
  children.push(data);
  const struct = makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children });
  return new RecordBatch(new Schema(fields, batch.schema.metadata), struct) as unknown as RecordBatch<Out>;
}

export const tokenize = defineOperator({
  id: 'tokenize/tokenize',
  description: 'BPE tokenization (gpt2, r50k, p50k, cl100k, o200k) of the text column into tokens List<Int32>, EOS after each document',
  module: import.meta.url,
  config: Config,
  input: textSchema,
  passthrough: true,
  output: () => schemaOf<Out>({ tokens: { type: tokensField().type } }),
  removes: (cfg) => (cfg.keepText ? [] : ['text']),
  kernel,
  make: (cfg, ctx) => kernelMap(kernel(cfg), ctx),
});
