// Edge compatibility and its explanation: a consumer's required columns against a producer's schema.
import { describe, expect, it } from 'vitest';
import { Field, FixedSizeList, Float32, Int32, Int64, List, Struct, Utf8 } from 'apache-arrow';
import {
  docSchema,
  explainMismatch,
  formatSchema,
  packedSchema,
  schemaMismatches,
  schemaOf,
  tokensSchema,
  typesCompatible,
} from '../../src/schema/index.ts';

const textOnly = () => schemaOf<{ text: Utf8 }>({ text: { type: new Utf8() } });
const int32List = () => new List(new Field('item', new Int32(), false));

describe('explainMismatch', () => {
  it('accepts a producer with extra columns and dictionary-encoded strings where plain ones are read', () => {
    expect(explainMismatch(textOnly(), docSchema())).toBeNull();
    const readsSource = schemaOf<{ source: Utf8 }>({ source: { type: new Utf8() } });
    expect(explainMismatch(readsSource, docSchema())).toBeNull();
    expect(explainMismatch(docSchema(), docSchema())).toBeNull(); // dictionary ids differ between the two
  });

  it('explains a missing column and shows both schemas', () => {
    const why = explainMismatch(tokensSchema(), docSchema());
    expect(why).not.toBeNull();
    expect(why).toContain('column "tokens" (List<Int32>) is missing');
    expect(why).toContain(`upstream provides: ${formatSchema(docSchema())}`);
    expect(why).toContain(`downstream needs:  ${formatSchema(tokensSchema())}`);
    expect(formatSchema(docSchema())).toBe('{ id: Utf8, text: Utf8, url: Utf8?, source: Dictionary<Utf8> }');
    // only the missing column is a problem: the others tokens needs are present
    expect(schemaMismatches(tokensSchema(), docSchema()).map((m) => m.column)).toEqual(['tokens']);
  });

  it('explains a wrong type with the expected and the actual type', () => {
    const floats = schemaOf<{ tokens: List<Float32> }>({
      tokens: { type: new List(new Field('item', new Float32())) },
    });
    const needs = schemaOf<{ tokens: List<Int32> }>({ tokens: { type: int32List() } });
    const why = explainMismatch(needs, floats)!;
    expect(why).toContain('column "tokens" has type List<Float32>, expected List<Int32>');
    expect(why).toContain('upstream provides: { tokens: List<Float32> }');
    expect(why).toContain('downstream needs:  { tokens: List<Int32> }');
    const wide = schemaOf<{ tokens: List<Int64> }>({ tokens: { type: new List(new Field('item', new Int64())) } });
    expect(explainMismatch(needs, wide)).toContain('has type List<Int64>');
  });

  it('lists every mismatch of one edge, and a nullable column where a non-null one is needed', () => {
    const producer = schemaOf<{ text: Utf8; tokens: List<Int32> }>({
      text: { type: new Utf8(), nullable: true },
      tokens: { type: int32List() },
    });
    const consumer = schemaOf<{ text: Utf8; id: Utf8; tokens: List<Int32> }>({
      text: { type: new Utf8() },
      id: { type: new Utf8() },
      tokens: { type: int32List() },
    });
    const ms = schemaMismatches(consumer, producer);
    expect(ms.map((m) => [m.column, m.problem])).toEqual([
      ['text', 'nullable'],
      ['id', 'missing'],
    ]);
    expect(explainMismatch(consumer, producer)).toContain('column "text" may be null (Utf8?), expected non-null Utf8');
  });

  it('distinguishes packed sequence lengths', () => {
    const why = explainMismatch(packedSchema(128), packedSchema(256))!;
    expect(why).toContain('FixedSizeList<Int32>[257]');
    expect(why).toContain('expected FixedSizeList<Int32>[129]');
    expect(explainMismatch(packedSchema(128), packedSchema(128))).toBeNull();
  });
});

describe('typesCompatible', () => {
  it('ignores list item names but not item types', () => {
    expect(typesCompatible(int32List(), new List(new Field('element', new Int32(), true)))).toBe(true);
    expect(typesCompatible(int32List(), new List(new Field('item', new Float32())))).toBe(false);
    expect(typesCompatible(new FixedSizeList(4, new Field('item', new Int32())), int32List())).toBe(false);
  });

  it('matches struct fields by name, not position', () => {
    const ab = new Struct([new Field('a', new Int32()), new Field('b', new Utf8())]);
    const ba = new Struct([new Field('b', new Utf8()), new Field('a', new Int32())]);
    const swapped = new Struct([new Field('a', new Utf8()), new Field('b', new Int32())]);
    expect(typesCompatible(ab, ba)).toBe(true);
    expect(typesCompatible(ab, swapped)).toBe(false);
    const onlyA = new Struct([new Field('a', new Int32())]);
    expect(typesCompatible(onlyA, ab)).toBe(true); // extra struct fields are fine
    expect(typesCompatible(ab, onlyA)).toBe(false);
  });
});
