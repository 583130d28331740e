// Real packed data for the shard tests, made here without the pack operator (built elsewhere): State of
// the Union addresses tokenized with js-tiktoken (gpt2), an EOS after each document, the token stream
// cut into rows of seqLen+1 tokens, with the positions where documents start in each row.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Field, FixedSizeList, Int32, List, makeData, RecordBatch, Schema, Struct, Uint8 } from 'apache-arrow';
import { getEncoding } from 'js-tiktoken';
import { sotuTexts } from '../../../operators/ingest/embedded-corpus.ts';

export const EOS = 50256; // gpt2 <|endoftext|>
let encoder: ReturnType<typeof getEncoding> | undefined;
const gpt2 = () => (encoder ??= getEncoding('gpt2'));

/** The first `n` State of the Union texts, by file name (i.e. by year). */
export function sotuDocs(n: number, from = 0): string[] {
  const dir = sotuTexts().replace(/[/\\][^/\\]*$/, '');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .slice(from, from + n)
    .map((f) => readFileSync(join(dir, f), 'utf8'));
}

export const packedTestSchema = (seqLen: number, withMask = false) =>
  new Schema([
    new Field('input_ids', new FixedSizeList(seqLen + 1, new Field('item', new Int32(), false)), false),
    new Field('doc_starts', new List(new Field('item', new Int32(), false)), true),
    ...(withMask
      ? [new Field('attention_mask', new FixedSizeList(seqLen + 1, new Field('item', new Uint8(), false)), true)]
      : []),
  ]);

/** A Packed batch from `rows` rows of ids laid end to end (and, with `mask`, an attention mask). */
export function packedBatch(schema: Schema, ids: Int32Array, starts: number[][], mask?: Uint8Array): RecordBatch {
  const width = (schema.fields[0]!.type as FixedSizeList).listSize;
  const rows = ids.length / width;
  const offsets = new Int32Array(rows + 1);
  starts.forEach((s, r) => {
    offsets[r + 1] = offsets[r]! + s.length;
  });
  const children = [
    makeData({
      type: schema.fields[0]!.type as FixedSizeList,
      length: rows,
      nullCount: 0,
      child: makeData({ type: new Int32(), length: ids.length, data: ids }),
    }),
    makeData({
      type: schema.fields[1]!.type as List,
      length: rows,
      nullCount: 0,
      valueOffsets: offsets,
      child: makeData({ type: new Int32(), length: offsets[rows]!, data: Int32Array.from(starts.flat()) }),
    }),
    ...(mask
      ? [
          makeData({
            type: schema.fields[2]!.type as FixedSizeList,
            length: rows,
            nullCount: 0,
            child: makeData({ type: new Uint8(), length: mask.length, data: mask }),
          }),
        ]
      : []),
  ];
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children }));
}

/**
 * Tokenizes `docs` lazily (one document at a time, as a pipeline would) and yields Packed batches of
 * `batchRows` rows; the tokens left over at the end (less than a row) are reported by `onRest`.
 */
export function* packDocs(
  docs: Iterable<string>,
  seqLen: number,
  batchRows: number,
  onRest?: (tokens: number) => void,
): Generator<RecordBatch> {
  const enc = gpt2();
  const width = seqLen + 1;
  const schema = packedTestSchema(seqLen);
  let buf = new Int32Array(width * batchRows);
  let fill = 0; // tokens in buf
  let starts: number[][] = [[]];
  for (const doc of docs) {
    const ids = [...enc.encode(doc), EOS];
    let at = 0;
    let docStart = true;
    while (at < ids.length) {
      const row = Math.floor(fill / width);
      if (docStart) {
        starts[row]!.push(fill % width);
        docStart = false;
      }
      const take = Math.min(ids.length - at, width - (fill % width));
      buf.set(ids.slice(at, at + take), fill);
      fill += take;
      at += take;
      if (fill % width === 0 && fill > 0) {
        if (fill === buf.length) {
          yield packedBatch(schema, buf, starts);
          buf = new Int32Array(width * batchRows);
          fill = 0;
          starts = [[]];
        } else starts.push([]);
      }
    }
  }
  const full = Math.floor(fill / width);
  if (full > 0) yield packedBatch(schema, buf.slice(0, full * width), starts.slice(0, full));
  onRest?.(fill - full * width);
}

/** Every token of `docs` with an EOS after each, in order: what the packed rows must hold. */
export function tokenStream(docs: readonly string[]): number[] {
  const enc = gpt2();
  return docs.flatMap((d) => [...enc.encode(d), EOS]);
}
