// The tokenize operator: a tokens List<Int32> column built from one id buffer, EOS/BOS, the text
// transforms, null texts, and the same output in a plain RxJS pipe and in a pipeline on 2 workers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Field, Int32, List, RecordBatch, Utf8, type Vector } from 'apache-arrow';
import { from, lastValueFrom, toArray } from 'rxjs';
import { z } from 'zod';
import { defineSource } from '../../../src/core/operator.ts';
import { OperatorStats } from '../../../src/core/stats.ts';
import { validatePipeline } from '../../../src/graph/validate.ts';
import { WorkerPool } from '../../../src/runtime/worker-pool.ts';
import { batchFromColumns, docSchema, schemaOf, type Doc } from '../../../src/schema/index.ts';
import { engineOf, tokenize } from '../../../operators/tokenize/tokenize.ts';
import type { FlowlmEngine } from '../../../operators/tokenize/engine/flowlm-engine.ts';
import { createEngine, type TokenEngine } from '../../../operators/tokenize/engine/engines.ts';
import { specialTokenId, type EncodingName } from '../../../operators/tokenize/engine/encodings.ts';
import { IdBuffer } from '../../../operators/tokenize/engine/id-buffer.ts';
import { docBatches, mobyParagraphs } from '../../fixtures/moby.ts';
import { tokenizeOnPool } from './on-pool.ts';
import { MULTILINGUAL, spamSample } from './samples.ts';

const reference = new Map<EncodingName, TokenEngine>();
const ref = (encoding: EncodingName, text: string): number[] => {
  let e = reference.get(encoding);
  if (!e) {
    e = createEngine('tiktoken-wasm', encoding);
    reference.set(encoding, e);
  }
  const out = new IdBuffer();
  e.encode(text, out);
  return Array.from(out.view());
};
const tokensOf = (batches: RecordBatch[]) =>
  batches.flatMap((b) =>
    Array.from(b.getChild('tokens')! as Vector<List<Int32>>, (v) => Array.from(v!.toArray() as Int32Array)),
  );
const textsOf = (batches: RecordBatch[]) => batches.flatMap((b) => Array.from(b.getChild('text')!, (v) => v as string));
const run = (batches: RecordBatch[], config: Parameters<typeof tokenize>[0], stats?: OperatorStats) =>
  lastValueFrom(from(batches).pipe(tokenize(config, stats ? { stats } : {}), toArray()));

const texts = [...mobyParagraphs(1), ...mobyParagraphs(42).slice(0, 20), ...spamSample(40_000, 1), ...MULTILINGUAL];
const input = docBatches(texts, 16, 'mixed');
let pool: WorkerPool;
beforeAll(() => {
  pool = new WorkerPool({ size: 2 });
});
afterAll(async () => {
  await pool.close();
  for (const e of reference.values()) e.dispose();
});

describe('tokenize', () => {
  it('replaces text with a tokens List<Int32> column: each document then EOS, other columns untouched', async () => {
    const out = await run(input, { encoding: 'cl100k' });
    expect(out.map((b) => b.numRows)).toEqual(input.map((b) => b.numRows));
    expect(out[0]!.schema.fields.map((f) => `${f.name}: ${f.type}`)).toEqual([
      'id: Utf8',
      'url: Utf8',
      'source: Dictionary<Int32, Utf8>',
      'tokens: List<Int32>',
    ]);
    const eos = specialTokenId('cl100k', '<|endoftext|>');
    expect(eos).toBe(100257);
    expect(tokensOf(out)).toEqual(texts.map((t) => [...ref('cl100k', t), eos]));
    out.forEach((b, k) => {
      // passthrough columns are the input's own buffers
      for (const name of ['id', 'url', 'source'] as const)
        expect(b.getChild(name)!.data[0]).toBe(input[k]!.getChild(name)!.data[0]);
      // one values buffer for the batch, rows delimited by offsets
      const list = b.getChild('tokens')!.data;
      expect(list).toHaveLength(1);
      const offsets = list[0]!.valueOffsets;
      expect(offsets[0]).toBe(0);
      expect(offsets[b.numRows]).toBe(list[0]!.children[0]!.length);
      expect(list[0]!.nullCount).toBe(0);
    });
  });

  it('keeps the text with keepText, and takes EOS and BOS per encoding or by name', async () => {
    const some = docBatches(texts.slice(0, 6), 3);
    const kept = await run(some, { encoding: 'gpt2', keepText: true, bos: true });
    expect(textsOf(kept)).toEqual(texts.slice(0, 6));
    expect(tokensOf(kept)).toEqual(texts.slice(0, 6).map((t) => [50256, ...ref('gpt2', t), 50256]));
    const named = await run(some, { encoding: 'cl100k', bos: '<|fim_prefix|>', eos: '<|endofprompt|>' });
    expect(tokensOf(named)).toEqual(texts.slice(0, 6).map((t) => [100258, ...ref('cl100k', t), 100276]));
    const bare = await run(some, { encoding: 'o200k', eos: false });
    expect(tokensOf(bare)).toEqual(texts.slice(0, 6).map((t) => ref('o200k', t)));
    expect(() => tokenize({ encoding: 'gpt2', eos: '<|endofprompt|>' })).toThrow(
      /config\.eos: encoding gpt2 has no special token <\|endofprompt\|> \(it has <\|endoftext\|>\)/,
    );
  });

  it("reuse 'thread': one engine per thread and settings, its piece cache warm from run to run; 'run': a new one", async () => {
    const prose = mobyParagraphs(1).slice(0, 5);
    const some = docBatches(prose, 2);
    const settings = { encoding: 'o200k', cacheEntries: 4096 } as const;
    const shared = engineOf({ engine: 'flowlm', ...settings, reuse: 'thread' }) as FlowlmEngine;
    expect(shared.cache.misses).toBe(0);
    await run(some, { ...settings, reuse: 'thread' });
    const misses = shared.cache.misses;
    expect(misses).toBeGreaterThan(0); // the run tokenized with this thread's engine
    const hits = shared.cache.hits;
    const again = await run(some, { ...settings, reuse: 'thread' });
    expect(shared.cache.misses).toBe(misses); // every piece of the same text was cached by the first run
    expect(shared.cache.hits).toBeGreaterThan(hits);
    expect(tokensOf(again)).toEqual(prose.map((t) => [...ref('o200k', t), specialTokenId('o200k', '<|endoftext|>')]));
    const used = shared.cache.hits;
    await run(some, settings); // the default, 'run': an engine of its own
    expect(shared.cache.hits).toBe(used);
    expect(engineOf({ engine: 'flowlm', ...settings, reuse: 'run' })).not.toBe(shared);
    expect(engineOf({ engine: 'flowlm', ...settings, reuse: 'thread' })).toBe(shared);
  });

  it('encodes special-token strings inside a document as ordinary text', async () => {
    const doc = 'one document <|endoftext|> pretending to end, <|fim_middle|> and all';
    const [ids] = tokensOf(await run(docBatches([doc], 1), { encoding: 'cl100k' }));
    expect(ids!.filter((id) => id >= 100257)).toEqual([100257]); // only the real EOS, at the end
    expect(ids!.at(-1)).toBe(100257);
    expect(ids!.slice(0, -1)).toEqual(ref('cl100k', doc));
  });

  it('applies NFKC, whitespace normalisation and lower-casing before encoding', async () => {
    const raw = ['The ﬁrst  ＦＵＬＬ-width\tline \r\n\r\n\r\n\r\nNext  Para', 'Cafe\u0301 Ǆ ½'];
    const batches = docBatches(raw, 2);
    const plain = tokensOf(await run(batches, { encoding: 'cl100k', eos: false }));
    expect(plain).toEqual(raw.map((t) => ref('cl100k', t)));
    const all = tokensOf(
      await run(batches, { encoding: 'cl100k', eos: false, form: 'NFKC', whitespace: true, lowercase: true }),
    );
    expect(all).toEqual([
      ref('cl100k', 'the first full-width line\n\nnext para'),
      ref('cl100k', 'café d\u017e 1\u20442'),
    ]);
    const nfc = tokensOf(await run(batches, { encoding: 'cl100k', eos: false, form: 'NFC' }));
    expect(nfc[1]).toEqual(ref('cl100k', 'Café Ǆ ½'));
    expect(nfc[1]).not.toEqual(plain[1]);
    // control characters out, line separators to LF, as clean/normalize does (a \u0002 sits in the 1890 address)
    const ctl = tokensOf(
      await run(docBatches(['4 1\u0002 per\u2028cent\u0085 bonds\r\nx'], 1), {
        encoding: 'cl100k',
        eos: false,
        controls: true,
      }),
    );
    expect(ctl).toEqual([ref('cl100k', '4 1 per\ncent bonds\nx')]);
  });

  it('drops rows whose text is null, counting why', async () => {
    const schema = schemaOf<{ id: Utf8; text: Utf8 }>({
      id: { type: new Utf8() },
      text: { type: new Utf8(), nullable: true },
    });
    const batch = batchFromColumns(schema, { id: ['a', 'b', 'c'], text: ['first', null, 'third'] });
    const stats = new OperatorStats('tokenize');
    const out = await run([batch], { encoding: 'cl100k' }, stats);
    expect(Array.from(out[0]!.getChild('id')!)).toEqual(['a', 'c']);
    expect(tokensOf(out)).toEqual([
      [...ref('cl100k', 'first'), 100257],
      [...ref('cl100k', 'third'), 100257],
    ]);
    expect(stats.dropReasons.get('tokenize.null_text')).toBe(1);
    expect(stats.counters.get('tokens')).toBe(tokensOf(out).flat().length);
  });

  it('declares its output schema: Doc minus text plus tokens (text kept with keepText)', async () => {
    const memory = defineSource({
      id: 'test/docs',
      description: 'test docs',
      config: z.object({}),
      output: docSchema,
      async *make() {
        /* none */
      },
    });
    // by id, as a JSON spec names it: the registry finds operators/tokenize/tokenize.ts
    const spec = (keepText: boolean) => ({
      name: 't',
      steps: [
        { id: 'src', op: memory, config: {} },
        { id: 'tok', op: 'tokenize/tokenize', config: { keepText } },
      ],
    });
    const names = async (keepText: boolean) =>
      (await validatePipeline(spec(keepText))).nodes.get('tok')!.schema!.fields.map((f: Field) => f.name);
    expect(await names(false)).toEqual(['id', 'url', 'source', 'tokens']);
    expect(await names(true)).toEqual(['id', 'text', 'url', 'source', 'tokens']);
    const bad = {
      name: 't',
      steps: [
        { id: 'src', op: memory, config: {} },
        { id: 'tok', op: 'tokenize/tokenize', config: { encoding: 'o200k', bos: '<|fim_prefix|>' } },
      ],
    };
    await expect(validatePipeline(bad)).rejects.toThrow(
      /steps\[1\]\.config\.bos: encoding o200k has no special token <\|fim_prefix\|>/,
    );
  });

  it('gives the same batches in a pipeline on 2 workers as in a plain pipe', async () => {
    const inline = await run(input, { encoding: 'o200k', bos: true });
    const { r, got } = await tokenizeOnPool(input, { encoding: 'o200k', bos: true }, pool);
    expect(r.error).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(pool.threads).toBe(2);
    expect(got.map((b) => b.schema.names)).toEqual(inline.map((b) => b.schema.names));
    expect(tokensOf(got)).toEqual(tokensOf(inline));
    expect(got.flatMap((b) => Array.from(b.getChild('id')!))).toEqual(
      inline.flatMap((b) => Array.from(b.getChild('id')!)),
    );
    expect(r.nodes.tok!.counters?.tokens).toBe(tokensOf(inline).flat().length);
    // the workers' ids come back in the shared memory the kernel wrote them to, not copied into the
    // reply's body with the list offsets (the inline kernel's are private)
    const tokens = (b: RecordBatch) => b.getChild('tokens')!.data[0]!;
    expect(got.every((b) => tokens(b).children[0]!.values.buffer instanceof SharedArrayBuffer)).toBe(true);
    expect(got.every((b) => tokens(b).children[0]!.values.buffer !== tokens(b).valueOffsets.buffer)).toBe(true);
    expect(inline.some((b) => tokens(b).children[0]!.values.buffer instanceof SharedArrayBuffer)).toBe(false);
  });
});
