// Token ids as an Arrow List<Int32> column, made without a builder: the list's values are one
// Int32Array holding every row's ids end to end, and its offsets say where each row starts.
import { Field, Int32, List, makeData, makeVector, type Vector } from 'apache-arrow';
import { tokensSchema } from '../../src/schema/columns.ts';

/** The `tokens` field of the Tokens column map (List<Int32>, items not null). */
export const tokensField = (): Field<List<Int32>> =>
  tokensSchema().fields.find((f) => f.name === 'tokens') as Field<List<Int32>>;

/**
 * A List<Int32> vector whose row r is ids[offsets[r], offsets[r+1]). `ids` is used as is, not copied
 * (so the caller must not write to it afterwards).
 */
export function tokensVector(ids: Int32Array, offsets: Int32Array): Vector<List<Int32>> {
  const rows = offsets.length - 1;
  if (rows < 0 || offsets[0] !== 0 || offsets[rows] !== ids.length)
    throw new Error(
      `tokensVector: offsets must run from 0 to ${ids.length} (the id count), got ${offsets[0]}..${offsets[rows]}`,
    );
  const type = tokensField().type;
  const child = makeData({ type: new Int32(), length: ids.length, nullCount: 0, data: ids });
  return makeVector(makeData({ type, length: rows, nullCount: 0, valueOffsets: offsets, child }));
}
