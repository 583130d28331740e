// Real token documents for the pack tests: State of the Union addresses and Moby-Dick chapters
// tokenized here with js-tiktoken (gpt2), cut into Tokens batches; a source and a collecting sink so
// the operators can run inside runPipeline.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Int32, List, Schema, makeData, makeVector, type RecordBatch } from 'apache-arrow';
import { getEncoding } from 'js-tiktoken';
import { from, lastValueFrom, toArray, type Observable, type OperatorFunction } from 'rxjs';
import { z } from 'zod';
import { defineSink, defineSource } from '../../../src/core/operator.ts';
import { batchFromColumns, tokensSchema, type Tokens } from '../../../src/schema/index.ts';
import { mobyDickChapters, sotuTexts } from '../../../operators/ingest/embedded-corpus.ts';

export const GPT2_EOS = 50256;
export interface TokenDoc {
  id: string;
  ids: Int32Array;
}

let cached: TokenDoc[] | undefined;
/** Every 12th address (20) and Moby-Dick chapters 1-40, plus a few paragraphs of chapter 1 (short
 * documents) and its empty last line (an empty document), in a fixed order. */
export function realDocs(): TokenDoc[] {
  if (cached) return cached;
  const enc = getEncoding('gpt2');
  const sotuDir = dirname(sotuTexts());
  const mobyDir = dirname(mobyDickChapters());
  const texts: Array<[string, string]> = [];
  const sotu = readdirSync(sotuDir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .filter((_, i) => i % 12 === 0);
  const chapter1 = readFileSync(join(mobyDir, 'chapter_1.txt'), 'utf8');
  chapter1
    .split(/\n\s*\n/)
    .slice(0, 6)
    .forEach((p, i) => texts.push([`moby-1-p${i}`, p.trim()]));
  texts.push(['empty', '']);
  sotu.forEach((f, i) => {
    texts.push([f, readFileSync(join(sotuDir, f), 'utf8')]);
    if (i < 40) texts.push([`moby-${i + 1}`, readFileSync(join(mobyDir, `chapter_${i + 1}.txt`), 'utf8')]);
  });
  for (let i = 20; i < 40; i++)
    texts.push([`moby-${i + 1}`, readFileSync(join(mobyDir, `chapter_${i + 1}.txt`), 'utf8')]);
  texts.push(['one-word', 'Ishmael']);
  cached = texts.map(([id, text]) => ({ id, ids: Int32Array.from(enc.encode(text)) }));
  return cached;
}

/** The token stream the packer must produce: each document then EOS. */
export function streamOf(docs: readonly TokenDoc[], eos = GPT2_EOS): Int32Array {
  const n = docs.reduce((s, d) => s + d.ids.length + 1, 0);
  const out = new Int32Array(n);
  let at = 0;
  for (const d of docs) {
    out.set(d.ids, at);
    at += d.ids.length;
    out[at++] = eos;
  }
  return out;
}

/** Documents with EOS already at their end (what the flowlm tokenizer emits by default). */
export const withEos = (docs: readonly TokenDoc[], eos = GPT2_EOS): TokenDoc[] =>
  docs.map((d) => ({ id: d.id, ids: Int32Array.of(...d.ids, eos) }));

/** Tokens batches of the documents, cut by `sizes` (cycled), ids in one buffer per batch. */
export function tokensBatches(docs: readonly TokenDoc[], sizes: readonly number[]): RecordBatch<Tokens>[] {
  const out: RecordBatch<Tokens>[] = [];
  for (let i = 0, k = 0; i < docs.length; k++) {
    const part = docs.slice(i, i + sizes[k % sizes.length]!);
    i += part.length;
    const offsets = new Int32Array(part.length + 1);
    part.forEach((d, r) => {
      offsets[r + 1] = offsets[r]! + d.ids.length;
    });
    const values = new Int32Array(offsets[part.length]!);
    part.forEach((d, r) => values.set(d.ids, offsets[r]!));
    const type = tokensSchema().fields.find((f) => f.name === 'tokens')!.type as List<Int32>;
    const child = makeData({ type: new Int32(), length: values.length, nullCount: 0, data: values });
    const tokens = makeVector(makeData({ type, length: part.length, nullCount: 0, valueOffsets: offsets, child }));
    out.push(
      batchFromColumns(tokensSchema(), {
        id: part.map((d) => d.id),
        url: part.map(() => null),
        source: part.map((d) => (d.id.startsWith('moby') ? 'moby' : 'sotu')),
        tokens,
      }),
    );
  }
  return out;
}

export function runOp<I, O>(batches: readonly I[], op: OperatorFunction<I, O>): Promise<O[]> {
  return lastValueFrom((from(batches) as Observable<I>).pipe(op, toArray()));
}

/** Row r of a FixedSizeList or List column as numbers. */
export function cells(batch: RecordBatch, column: string): number[][] {
  const col = batch.getChild(column);
  if (!col) throw new Error(`column ${column} missing`);
  return Array.from(col, (v) => Array.from((v as { toArray(): ArrayLike<number> }).toArray()));
}

// For runPipeline: inputs and outputs pass through module maps keyed by a name in the config.
export const inputs = new Map<string, RecordBatch[]>();
export const outputs = new Map<string, RecordBatch[]>();

export const batchSource = defineSource({
  id: 'test/pack-batches',
  description: 'yields the batches registered under `key`, one per pull',
  config: z.object({ key: z.string() }),
  output: () => tokensSchema(),
  async *make(cfg): AsyncGenerator<RecordBatch<Tokens>> {
    for (const b of inputs.get(cfg.key) ?? []) yield b as RecordBatch<Tokens>;
  },
});

export const collectSink = defineSink({
  id: 'test/pack-collect',
  description: 'keeps every batch under `key`, optionally sleeping per batch',
  config: z.object({ key: z.string(), ms: z.number().default(0) }),
  input: () => new Schema([]),
  make: (cfg) => {
    const got: RecordBatch[] = [];
    outputs.set(cfg.key, got);
    return {
      write: async (b) => {
        if (cfg.ms > 0) await new Promise((r) => setTimeout(r, cfg.ms));
        got.push(b);
      },
      close: () => [],
      abort: () => undefined,
    };
  },
});
