// What the packing operators share about their input: the `tokens` List<Int32> column read as one
// Int32Array view per document (no copy), and the end-of-text config.
import { Field, Int32, List, Schema, Type, type Data, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import type { OperatorContext } from '../../src/core/context.ts';

export type TokensIn = { tokens: List<Int32> };
export const tokensInput = () =>
  new Schema<TokensIn>([new Field('tokens', new List(new Field('item', new Int32(), false)), false)]);

export const eosConfig = {
  appendEos: z
    .boolean()
    .default(false)
    .describe(
      'append eosId after each document; false when the tokenizer already ended each document with EOS (its default)',
    ),
  eosId: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('end-of-text id (gpt2/r50k/p50k 50256, cl100k 100257, o200k 199999)'),
};

/** zod refinement: appendEos needs an id. */
export function checkEos(c: { appendEos: boolean; eosId?: number | undefined }, ctx: z.RefinementCtx): void {
  if (c.appendEos && c.eosId === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['eosId'],
      message: "appendEos is true but eosId is not set: give the encoding's end-of-text id (e.g. 50256 for gpt2)",
    });
}

/**
 * Calls `each` with every document's tokens in row order: views into the batch's own buffer, valid
 * until the call returns (copy what must outlive it). A null row is counted as a drop and skipped.
 */
export function eachDocument(
  batch: RecordBatch,
  ctx: OperatorContext,
  each: (ids: Int32Array, row: number) => void,
): void {
  const at = batch.schema.fields.findIndex((f) => f.name === 'tokens');
  const field = batch.schema.fields[at];
  if (!field || field.type.typeId !== Type.List || (field.type as List).children[0]!.type.typeId !== Type.Int)
    throw new Error(
      `column "tokens" (List<Int32>) missing or of another type (batch has ${batch.schema.fields.map((f) => `${f.name}: ${f.type}`).join(', ')}); tokenize documents first`,
    );
  const data = batch.data.children[at] as Data<List<Int32>>;
  const offsets = data.valueOffsets;
  const values = data.children[0]!.values as Int32Array;
  if (!(values instanceof Int32Array))
    throw new Error(`column "tokens" holds ${(values as object).constructor.name} items; expected Int32 token ids`);
  for (let r = 0; r < data.length; r++) {
    if (data.nullCount > 0 && !data.getValid(r)) {
      ctx.stats.drop('null tokens', 1);
      continue;
    }
    each(values.subarray(offsets[r]!, offsets[r + 1]!), r);
  }
}
