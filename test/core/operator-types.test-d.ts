// Compile-time contracts of operator factories: piping onto a stream without the columns an operator
// reads does not compile; extra columns do, and passthrough operators keep them in their output type.
import { describe, expectTypeOf, it } from 'vitest';
import type { Dictionary, Int32, List, RecordBatch, Utf8 } from 'apache-arrow';
import { map, type Observable } from 'rxjs';
import type { SinkResult } from '../../src/core/sink.ts';
import type { Doc, Tokens } from '../../src/schema/index.ts';
import { normalize } from '../../operators/clean/normalize.ts';
import { readText } from '../../operators/ingest/read-text.ts';
import { writeJsonl } from '../../operators/io/write-jsonl.ts';
import { countWords, tokenSink } from '../fixtures/ops/graph-ops.ts';

type ColumnsOf<S> = S extends Observable<RecordBatch<infer T>> ? T : never;
declare const tokens$: Observable<RecordBatch<{ tokens: List<Int32> }>>;
declare const docs$: Observable<RecordBatch<Doc>>;
declare const textOnly$: Observable<RecordBatch<{ text: Utf8 }>>;

describe('operator input types', () => {
  it('normalize does not compile on a stream without a text column', () => {
    // @ts-expect-error normalize reads { text: Utf8 }; this stream has only tokens
    tokens$.pipe(normalize());
    // @ts-expect-error the same through the factory called directly
    normalize()(tokens$);
  });

  it('a text column of another type does not compile', () => {
    const numbers$ = null as unknown as Observable<RecordBatch<{ text: Int32 }>>;
    // @ts-expect-error text must be Utf8
    numbers$.pipe(normalize());
  });

  it('a sink needing tokens does not accept documents', () => {
    // @ts-expect-error tokenSink reads Tokens; Doc has no tokens column
    docs$.pipe(tokenSink());
    const tok$ = null as unknown as Observable<RecordBatch<Tokens>>;
    expectTypeOf(tok$.pipe(tokenSink())).toEqualTypeOf<Observable<SinkResult>>();
  });
});

describe('output types', () => {
  it('extra columns compile and a passthrough operator keeps them', () => {
    const out = docs$.pipe(normalize());
    type Out = ColumnsOf<typeof out>;
    expectTypeOf<keyof Out>().toEqualTypeOf<'id' | 'text' | 'url' | 'source'>();
    expectTypeOf<Out['source']>().toEqualTypeOf<Dictionary<Utf8, Int32>>();
    expectTypeOf<Out['text']>().toEqualTypeOf<Utf8>();
    // and the result flows on into operators that need the kept columns
    expectTypeOf(out.pipe(writeJsonl({ path: 'x.jsonl' }))).toEqualTypeOf<Observable<SinkResult>>();
  });

  it('a stream with exactly the required columns gives exactly them', () => {
    type Out = ColumnsOf<ReturnType<ReturnType<typeof normalize>>>;
    expectTypeOf<Out>().not.toBeNever();
    const out = textOnly$.pipe(normalize());
    expectTypeOf<keyof ColumnsOf<typeof out>>().toEqualTypeOf<'text'>();
  });

  it('a non-passthrough operator gives only its declared columns', () => {
    const out = docs$.pipe(countWords());
    type Out = ColumnsOf<typeof out>;
    expectTypeOf<keyof Out>().toEqualTypeOf<'id' | 'words'>();
    expectTypeOf<Out['words']>().toEqualTypeOf<Int32>();
  });

  it('a source factory gives an Observable of its declared batches, usable in any pipe', () => {
    const src = readText({ paths: ['a.txt'] });
    expectTypeOf(src).toEqualTypeOf<Observable<RecordBatch<Doc>>>();
    const chained = src.pipe(
      normalize(),
      map((b) => b.getChild('source')),
    );
    expectTypeOf(chained).not.toBeAny();
  });

  it('config types come from the zod schema', () => {
    // @ts-expect-error form is one of NFC | NFKC | none
    normalize({ form: 'NFX' });
    // @ts-expect-error paths is required
    readText({ unit: 'paragraph' });
    normalize({ whitespace: false });
  });
});
