// Which column holds tokens and how many a batch has: the real token ids stored, i.e. every id of a
// row (FixedSizeList packed rows or List token lists) less the padding an attention_mask of the same
// shape marks 0. Packed rows hold seqLen+1 ids each, so this counts what is stored, not targets.
import { DataType, type Data, type FixedSizeList, type List, type RecordBatch, type Schema } from 'apache-arrow';

const isTokenList = (t: DataType) => DataType.isFixedSizeList(t) || DataType.isList(t);

/** The token column: `preferred` if given, else input_ids, else tokens; null when there is none. */
export function tokenColumnOf(schema: Schema, preferred?: string): string | null {
  for (const name of preferred ? [preferred] : ['input_ids', 'tokens']) {
    const f = schema.fields.find((g) => g.name === name);
    if (f && isTokenList(f.type)) return name;
    if (preferred)
      throw new Error(
        `token column "${preferred}" ${f ? 'is not a list column' : 'is not in the input'} (columns: ${schema.names.join(', ')})`,
      );
  }
  return null;
}

/** Row r's values as a [from, to) range of the list column's child values. */
function rowRange(data: Data<FixedSizeList | List>, r: number): [number, number] {
  if (DataType.isFixedSizeList(data.type)) {
    const size = data.type.listSize;
    return [r * size, (r + 1) * size];
  }
  const o = data.valueOffsets as ArrayLike<number>;
  return [o[r]!, o[r + 1]!];
}

function countTokens(ids: Data<FixedSizeList | List>, mask: Data<FixedSizeList | List> | undefined): number {
  let n = 0;
  for (let r = 0; r < ids.length; r++) {
    if (!ids.getValid(r)) continue;
    const [a, b] = rowRange(ids, r);
    if (!mask || !mask.getValid(r)) {
      n += b - a;
      continue;
    }
    const [ma, mb] = rowRange(mask, r);
    const values = mask.children[0]!.values as ArrayLike<number>;
    for (let i = ma; i < mb; i++) if (values[i] !== 0) n++;
  }
  return n;
}

/** A function counting the tokens of a batch (0 for every batch when `column` is null). */
export function tokenCounter(schema: Schema, column: string | null): (batch: RecordBatch) => number {
  if (column === null) return () => 0;
  const at = schema.names.indexOf(column);
  const maskAt = schema.names.indexOf('attention_mask');
  const useMask = maskAt >= 0 && maskAt !== at && schema.fields[maskAt]!.type.typeId === schema.fields[at]!.type.typeId;
  return (batch) =>
    countTokens(
      batch.data.children[at] as Data<FixedSizeList | List>,
      useMask ? (batch.data.children[maskAt] as Data<FixedSizeList | List>) : undefined,
    );
}
