// A Parquet or Arrow IPC batch as documents (the Doc column map): its `text` column, and `id`, `url`
// and `source` where the file has them. A file without ids gets stable ones from its name and row
// number, as the text readers derive theirs; without url, nulls; without source, the given label.
// Columns the file has that are already of the Doc layout are taken as they are (no copy).
import { DataType, type RecordBatch, type Schema, type Vector } from 'apache-arrow';
import { batchFromColumns, type Doc } from '../../src/schema/index.ts';
import { fileKey, stableId } from '../../src/runtime/files.ts';

const utf8 = (v: Vector | null): Vector | undefined => (v && DataType.isUtf8(v.type) ? v : undefined);

/**
 * Rows `firstRow`.. of `file` as documents of `schema`, rows without text left out (their count is
 * returned with them); or a message saying which column is missing or of the wrong type.
 */
export function tableDocs(
  batch: RecordBatch,
  schema: Schema<Doc>,
  file: string,
  firstRow: number,
  source: string,
): { docs: RecordBatch<Doc>; nulls: number } | string {
  const text = utf8(batch.getChild('text'));
  if (!text)
    return `it has no Utf8 "text" column (columns: ${batch.schema.fields.map((f) => `${f.name}: ${f.type}`).join(', ')})`;
  for (const name of ['id', 'url'] as const) {
    const col = batch.getChild(name);
    if (col && !utf8(col)) return `its "${name}" column is ${col.type}, expected Utf8 (strings)`;
  }
  const src = batch.getChild('source');
  if (src && !utf8(src) && !(DataType.isDictionary(src.type) && DataType.isUtf8(src.type.dictionary)))
    return `its "source" column is ${src.type}, expected strings`;
  const rows = [...Array(batch.numRows).keys()].filter((r) => text.isValid(r));
  const all = rows.length === batch.numRows;
  const pick = (v: Vector): Vector | unknown[] => (all ? v : rows.map((r) => v.get(r) as unknown));
  const key = fileKey(file);
  const id = batch.getChild('id');
  const url = batch.getChild('url');
  const docs = batchFromColumns(schema, {
    id:
      id && id.nullCount === 0
        ? pick(id)
        : rows.map((r) => (id?.get(r) as string | null) ?? stableId(`${key}:${firstRow + r}`)),
    text: pick(text),
    url: url ? pick(url) : rows.map(() => null),
    source: src ? rows.map((r) => (src.get(r) as string | null) ?? source) : rows.map(() => source),
  } as Parameters<typeof batchFromColumns<Doc>>[1]);
  return { docs, nulls: batch.numRows - rows.length };
}
