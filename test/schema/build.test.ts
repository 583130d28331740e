// Building batches from columns and rows, growing them and selecting rows, on real text: values,
// nulls, dictionary-encoded sources and token lists survive every round trip.
import { describe, expect, it } from 'vitest';
import { Dictionary, Field, Float32, Int32, List, Type, Utf8, vectorFromArray } from 'apache-arrow';
import {
  batchBytes,
  batchFromColumns,
  batchFromRows,
  docSchema,
  schemaOf,
  takeRows,
  tokensSchema,
  withColumns,
  type Doc,
} from '../../src/schema/index.ts';
import { columnOf, docBatch, mobyParagraphs, textsOf } from '../fixtures/moby.ts';

const paras = mobyParagraphs(1);
const words = (s: string) => s.split(/\s+/).filter((w) => w.length > 0);
/** Stand-in token ids from real words: the length of each word. */
const wordLengths = (s: string) => words(s).map((w) => w.length);

describe('batchFromColumns', () => {
  it('round-trips real paragraphs with null urls and a dictionary-encoded source column', () => {
    const sources = paras.map((_, i) => (i % 2 === 0 ? 'moby' : 'moby-dick'));
    const urls = paras.map((_, i) => (i % 4 === 0 ? null : `https://example.org/${i}`));
    const b = batchFromColumns(docSchema(), {
      id: paras.map((_, i) => `c1-${i}`),
      text: paras,
      url: urls,
      source: sources,
    });
    expect(b.numRows).toBe(paras.length);
    expect(textsOf(b)).toEqual(paras);
    expect(columnOf(b, 'url')).toEqual(urls);
    expect(b.getChild('url')!.nullCount).toBe(urls.filter((u) => u === null).length);
    const src = b.getChild('source')!;
    expect(src.type.typeId).toBe(Type.Dictionary);
    expect([...src]).toEqual(sources);
    // dictionary encoding stores each distinct value once
    expect(src.data[0]!.dictionary!.length).toBe(new Set(sources).size);
  });

  it('builds token lists (List<Int32>), keeping empty lists distinct from nulls', () => {
    const tokens = paras.map(wordLengths);
    const schema = schemaOf<{ id: Utf8; tokens: List<Int32> }>({
      id: { type: new Utf8() },
      tokens: { type: new List(new Field('item', new Int32(), false)), nullable: true },
    });
    const withGaps = [...tokens, [], null];
    const b = batchFromColumns(schema, { id: withGaps.map((_, i) => String(i)), tokens: withGaps });
    expect(columnOf(b, 'tokens')).toEqual(withGaps);
    expect(b.getChild('tokens')!.nullCount).toBe(1);
  });

  it('casts a typed array of another type to the declared column type', () => {
    const lengths = paras.map((p) => p.length / 7);
    const schema = schemaOf<{ ratio: Float32 }>({ ratio: { type: new Float32() } });
    const b = batchFromColumns(schema, { ratio: new Float64Array(lengths) });
    const col = b.getChild('ratio')!;
    expect(col.type.typeId).toBe(Type.Float);
    expect((col.type as Float32).precision).toBe((schema.fields[0]!.type as Float32).precision);
    expect(Array.from(col.toArray() as Float32Array)).toEqual(Array.from(Float32Array.from(lengths)));
  });

  it('uses a vector of the right layout as is, and re-encodes plain strings for a dictionary column', () => {
    const ids = vectorFromArray(
      paras.map((_, i) => `id${i}`),
      new Utf8(),
    );
    const plainSource = vectorFromArray(
      paras.map(() => 'moby'),
      new Utf8(),
    );
    const b = batchFromColumns(docSchema(), { id: ids, text: paras, url: paras.map(() => null), source: plainSource });
    expect(b.getChild('id')!.data[0]).toBe(ids.data[0]); // no copy
    expect(b.getChild('source')!.type.typeId).toBe(Type.Dictionary);
    expect([...b.getChild('source')!]).toEqual(paras.map(() => 'moby'));
  });

  it('names the column when one is missing, of another length, or null where it may not be', () => {
    const texts = paras.slice(0, 3);
    expect(() =>
      batchFromColumns(docSchema(), { id: ['a', 'b', 'c'], text: texts, url: [null, null, null] } as never),
    ).toThrow(/column "source" missing/);
    expect(() =>
      batchFromColumns(docSchema(), { id: ['a', 'b'], text: texts, url: [null, null, null], source: ['m', 'm', 'm'] }),
    ).toThrow(/"text" has 3 rows, "id" has 2/);
    expect(() =>
      batchFromColumns(docSchema(), {
        id: ['a', null, 'c'],
        text: texts,
        url: [null, null, null],
        source: ['m', 'm', 'm'],
      }),
    ).toThrow(/column "id" is not nullable but row 1 is null/);
  });
});

describe('batchFromRows', () => {
  it('round-trips token rows; a missing nullable key becomes null', () => {
    const rows = paras.slice(0, 6).map((p, i) => ({
      id: `c1-${i}`,
      source: i < 3 ? 'moby' : 'sotu',
      tokens: wordLengths(p),
      ...(i % 2 === 0 ? {} : { url: `u${i}` }),
    }));
    const b = batchFromRows(tokensSchema(), rows);
    expect(b.schema.names).toEqual(['id', 'url', 'source', 'tokens']);
    expect(columnOf(b, 'tokens')).toEqual(rows.map((r) => r.tokens));
    expect(columnOf(b, 'url')).toEqual(rows.map((r) => ('url' in r ? r.url : null)));
    expect(columnOf(b, 'source')).toEqual(rows.map((r) => r.source));
    expect(b.toArray().map((r) => r.toJSON().id)).toEqual(rows.map((r) => r.id));
  });

  it('rejects a row without a value for a non-nullable column, naming column and row', () => {
    const rows = [
      { id: 'a', text: paras[1]!, source: 'moby' },
      { id: 'b', source: 'moby' },
    ];
    expect(() => batchFromRows(docSchema(), rows)).toThrow(/column "text" is not nullable but row 1 is null/);
  });

  it('an empty row list gives an empty batch with the full schema', () => {
    const b = batchFromRows(docSchema(), []);
    expect(b.numRows).toBe(0);
    expect(b.schema.names).toEqual(['id', 'text', 'url', 'source']);
  });
});

describe('withColumns', () => {
  const base = docBatch(paras);

  it('adds a token column and replaces text in place, sharing the other columns', () => {
    const upper = paras.map((p) => p.toUpperCase());
    const tokens = vectorFromArray(paras.map(wordLengths), new List(new Field('item', new Int32(), false)));
    const b = withColumns(base, { text: vectorFromArray(upper, new Utf8()), tokens });
    expect(b.schema.names).toEqual(['id', 'text', 'url', 'source', 'tokens']);
    expect(textsOf(b)).toEqual(upper);
    expect(columnOf(b, 'tokens')).toEqual(paras.map(wordLengths));
    for (const name of ['id', 'url', 'source'] as const)
      expect(b.getChild(name)!.data[0]).toBe(base.getChild(name)!.data[0]);
    expect(textsOf(base)).toEqual(paras); // the input is untouched
  });

  it('builds a column from plain values with a given type; nulls make it nullable', () => {
    const lens = paras.map((p, i) => (i === 2 ? null : words(p).length));
    const b = withColumns(base, { n_words: lens }, { n_words: new Int32() });
    expect(columnOf(b, 'n_words')).toEqual(lens);
    expect(b.schema.fields.find((f) => f.name === 'n_words')!.nullable).toBe(true);
    const all = withColumns(base, { n_words: paras.map((p) => words(p).length) }, { n_words: new Int32() });
    expect(all.schema.fields.find((f) => f.name === 'n_words')!.nullable).toBe(false);
  });

  it('casts a vector to the type given for it', () => {
    const plainLang = vectorFromArray(
      paras.map(() => 'en'),
      new Utf8(),
    );
    const asDict = withColumns<Doc, { lang: Dictionary<Utf8, Int32> }>(
      base,
      { lang: plainLang },
      { lang: new Dictionary(new Utf8(), new Int32()) },
    );
    expect(asDict.getChild('lang')!.type.typeId).toBe(Type.Dictionary);
    expect([...asDict.getChild('lang')!]).toEqual(paras.map(() => 'en'));
  });

  it('refuses a column of the wrong length, and plain values without a type', () => {
    expect(() => withColumns(base, { x: vectorFromArray([1, 2], new Int32()) })).toThrow(
      /"x" has 2 rows, batch has 16/,
    );
    expect(() => withColumns(base, { x: paras.map(() => 1) })).toThrow(/"x" needs a type/);
  });
});

describe('takeRows', () => {
  const rows = paras.map((p, i) => ({
    id: `r${i}`,
    url: i % 3 === 0 ? null : `u${i}`,
    source: i % 2 ? 'moby' : 'dick',
    tokens: wordLengths(p),
  }));
  const b = batchFromRows(tokensSchema(), rows);

  it('selects, reorders and repeats rows of every column type, nulls and lists included', () => {
    const idx = [5, 0, 5, 3, paras.length - 1];
    const t = takeRows(b, idx);
    expect(t.numRows).toBe(idx.length);
    expect(t.schema.fields.map((f) => [f.name, String(f.type), f.nullable])).toEqual(
      b.schema.fields.map((f) => [f.name, String(f.type), f.nullable]),
    );
    expect(columnOf(t, 'id')).toEqual(idx.map((i) => rows[i]!.id));
    expect(columnOf(t, 'url')).toEqual(idx.map((i) => rows[i]!.url));
    expect(columnOf(t, 'source')).toEqual(idx.map((i) => rows[i]!.source));
    expect(columnOf(t, 'tokens')).toEqual(idx.map((i) => rows[i]!.tokens));
    expect(t.getChild('source')!.type.typeId).toBe(Type.Dictionary);
  });

  it('keeps null list cells null and takes from a typed-array index list', () => {
    const schema = schemaOf<{ tokens: List<Int32> }>({
      tokens: { type: new List(new Field('item', new Int32(), false)), nullable: true },
    });
    const cells = [wordLengths(paras[1]!), null, [], wordLengths(paras[2]!)];
    const t = takeRows(batchFromColumns(schema, { tokens: cells }), Int32Array.from([3, 1, 2]));
    expect(columnOf(t, 'tokens')).toEqual([cells[3], null, []]);
  });

  it('throws on an index outside the batch', () => {
    expect(() => takeRows(b, [0, paras.length])).toThrow(RangeError);
    expect(() => takeRows(b, [-1])).toThrow(/index -1/);
  });

  it('an empty selection is an empty batch of the same schema', () => {
    const t = takeRows(b, []);
    expect(t.numRows).toBe(0);
    expect(t.schema.names).toEqual(b.schema.names);
  });
});

describe('batchBytes', () => {
  it('grows with the text held and counts at least the UTF-8 bytes of the text', () => {
    const small = docBatch(paras.slice(0, 4));
    const large = docBatch(paras);
    const utf8 = paras.reduce((n, p) => n + Buffer.byteLength(p), 0);
    expect(batchBytes(large)).toBeGreaterThanOrEqual(utf8);
    expect(batchBytes(large)).toBeGreaterThan(batchBytes(small));
  });
});
