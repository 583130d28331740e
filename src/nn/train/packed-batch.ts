// Packed rows (DESIGN.md §3) <-> the model's PackedBatch, with all three columns: input_ids (a view
// when it can be), doc_starts (document masking: attention and positions restart at each start) and
// attention_mask (padding: its targets weigh 0 in the loss). A column that is absent, or null in
// every row, is left out of the PackedBatch; a null row of one that is present means "no document
// starts" and "every token real" respectively. Arrow keeps a sliced column's value arrays (and List
// offsets) relative to its first row, so rows are indexed from 0 whatever the Data's offset.
import {
  Int32,
  makeData,
  RecordBatch,
  Struct,
  Uint8,
  type Data,
  type Field,
  type FixedSizeList,
  type List,
} from 'apache-arrow';
import { packedSchema, type Packed } from '../../schema/columns.ts';
import type { PackedBatch } from '../objective/loss.ts';

/** The one Data of a column, or undefined when the batch has no such column. */
function columnData(batch: RecordBatch, name: string): Data | undefined {
  const col = batch.getChild(name);
  if (!col) return undefined;
  if (col.data.length !== 1)
    throw new Error(
      `packedOf: expected one ${name} chunk, got ${col.data.length} (columns: ${batch.schema.names.join(', ')})`,
    );
  return col.data[0]!;
}

/** Each row's document starts at positions 0..seqLen (the row's last position may start one). */
function docStartsOf(data: Data | undefined, rows: number, seqLen: number): Int32Array[] | undefined {
  if (!data || data.nullCount === rows) return undefined;
  const offsets = data.valueOffsets as Int32Array;
  const values = data.children[0]!.values as Int32Array;
  const out: Int32Array[] = [];
  for (let r = 0; r < rows; r++) {
    if (data.nullCount > 0 && !data.getValid(r)) {
      out.push(new Int32Array(0));
      continue;
    }
    const row = values.subarray(offsets[r]!, offsets[r + 1]!);
    // cropping keeps the starts that are still in the row; the view is kept when all are
    out.push(row.every((s) => s <= seqLen) ? row : row.filter((s) => s <= seqLen));
  }
  return out;
}

/** [rows, seqLen + 1] mask cropped from rows of `width`; null rows are all real tokens. */
function maskOf(data: Data | undefined, rows: number, width: number, seqLen: number): Uint8Array | undefined {
  if (!data || data.nullCount === rows) return undefined;
  const size = (data.type as FixedSizeList).listSize;
  if (size !== width)
    throw new Error(
      `packedOf: attention_mask rows hold ${size} values but input_ids rows ${width}; they must match token for token`,
    );
  const all = data.children[0]!.values as Uint8Array;
  const out = seqLen + 1;
  if (out === width && data.nullCount === 0) return all.subarray(0, rows * width);
  const mask = new Uint8Array(rows * out);
  for (let r = 0; r < rows; r++) {
    if (data.nullCount > 0 && !data.getValid(r)) mask.fill(1, r * out, (r + 1) * out);
    else mask.set(all.subarray(r * width, r * width + out), r * out);
  }
  return mask;
}

/** A Packed batch's rows as the model's input, cropped to `seqLen` input tokens when given (the ids
 * are copied only when cropping or when the column is not one contiguous array), with its doc_starts
 * and attention_mask when it has them. */
export function packedOf(batch: RecordBatch<Packed>, seqLen?: number): PackedBatch {
  const data = columnData(batch, 'input_ids');
  if (!data)
    throw new Error(
      `packedOf: no input_ids column (columns: ${batch.schema.names.join(', ')}); expected Packed rows (pack/pack-sequences or pack/bucket)`,
    );
  const width = (data.type as FixedSizeList).listSize;
  if (width === undefined)
    throw new Error(
      `packedOf: input_ids is ${data.type}, expected FixedSizeList rows of seqLen + 1 ids (pack/bucket with width ` +
        `'seqLen')`,
    );
  const rows = batch.numRows;
  const all = (data.children[0]!.values as Int32Array).subarray(0, rows * width);
  const out = seqLen ?? width - 1;
  if (out > width - 1) throw new Error(`packedOf: seqLen ${out} is longer than the rows (${width - 1} input tokens)`);
  let ids = all;
  if (out < width - 1) {
    ids = new Int32Array(rows * (out + 1));
    for (let r = 0; r < rows; r++) ids.set(all.subarray(r * width, r * width + out + 1), r * (out + 1));
  }
  const b: PackedBatch = { inputIds: ids, batch: rows, seqLen: out };
  const docStarts = docStartsOf(columnData(batch, 'doc_starts'), rows, out);
  const attentionMask = maskOf(columnData(batch, 'attention_mask'), rows, width, out);
  if (docStarts) b.docStarts = docStarts;
  if (attentionMask) b.attentionMask = attentionMask;
  return b;
}

/** Rows of PackedBatches (each of at least seqLen + 1 tokens) as one batch of rows cropped to
 * `seqLen` input tokens; doc_starts and attention_mask are kept when any part has them. */
export function packedRows(parts: readonly PackedBatch[], seqLen: number): PackedBatch {
  const width = seqLen + 1;
  const rows = parts.reduce((n, p) => n + p.batch, 0);
  const ids = new Int32Array(rows * width);
  const withStarts = parts.some((p) => p.docStarts);
  const docStarts: ArrayLike<number>[] = [];
  const mask = parts.some((p) => p.attentionMask) ? new Uint8Array(rows * width).fill(1) : undefined;
  let r = 0;
  for (const p of parts) {
    if (p.seqLen < seqLen)
      throw new Error(`packedRows: rows of ${p.seqLen} input tokens cannot be cropped to ${seqLen}`);
    const w = p.seqLen + 1;
    for (let i = 0; i < p.batch; i++, r++) {
      ids.set(p.inputIds.subarray(i * w, i * w + width), r * width);
      if (mask && p.attentionMask) mask.set(p.attentionMask.subarray(i * w, i * w + width), r * width);
      if (withStarts) docStarts.push(p.docStarts ? Array.from(p.docStarts[i]!).filter((s) => s <= seqLen) : []);
    }
  }
  const b: PackedBatch = { inputIds: ids, batch: rows, seqLen };
  if (withStarts) b.docStarts = docStarts;
  if (mask) b.attentionMask = mask;
  return b;
}

/** Rows of a PackedBatch as a Packed batch: input_ids and attention_mask views of its arrays,
 * doc_starts copied; a column the PackedBatch lacks is null in every row. */
export function packedBatchOf(b: PackedBatch): RecordBatch<Packed> {
  const schema = packedSchema(b.seqLen);
  const [idsF, startsF, maskF] = schema.fields as [
    Field<FixedSizeList<Int32>>,
    Field<List<Int32>>,
    Field<FixedSizeList<Uint8>>,
  ];
  const width = b.seqLen + 1;
  const nulls = new Uint8Array(Math.ceil(b.batch / 8));
  let starts = makeData({
    type: startsF.type,
    length: b.batch,
    nullCount: b.batch,
    nullBitmap: nulls,
    valueOffsets: new Int32Array(b.batch + 1),
    child: makeData({ type: new Int32(), length: 0, data: new Int32Array(0) }),
  });
  if (b.docStarts) {
    if (b.docStarts.length !== b.batch)
      throw new Error(`packedBatchOf: ${b.docStarts.length} doc_starts rows for a batch of ${b.batch}`);
    const offsets = new Int32Array(b.batch + 1);
    for (let r = 0; r < b.batch; r++) offsets[r + 1] = offsets[r]! + b.docStarts[r]!.length;
    const values = new Int32Array(offsets[b.batch]!);
    for (let r = 0; r < b.batch; r++) values.set(Array.from(b.docStarts[r]!), offsets[r]!);
    starts = makeData({
      type: startsF.type,
      length: b.batch,
      nullCount: 0,
      valueOffsets: offsets,
      child: makeData({ type: new Int32(), length: values.length, data: values }),
    });
  }
  if (b.attentionMask && b.attentionMask.length !== b.batch * width)
    throw new Error(
      `packedBatchOf: attention_mask has ${b.attentionMask.length} values, expected ${b.batch} x ${width}`,
    );
  const mask = b.attentionMask
    ? makeData({
        type: maskF.type,
        length: b.batch,
        nullCount: 0,
        child: makeData({ type: new Uint8(), length: b.batch * width, data: b.attentionMask }),
      })
    : makeData({
        type: maskF.type,
        length: b.batch,
        nullCount: b.batch,
        nullBitmap: nulls,
        child: makeData({ type: new Uint8(), length: b.batch * width, data: new Uint8Array(b.batch * width) }),
      });
  const children = [
    makeData({
      type: idsF.type,
      length: b.batch,
      nullCount: 0,
      child: makeData({ type: new Int32(), length: b.inputIds.length, data: b.inputIds }),
    }),
    starts,
    mask,
  ];
  return new RecordBatch(
    schema,
    makeData({ type: new Struct(schema.fields), length: b.batch, nullCount: 0, children }),
  );
}
