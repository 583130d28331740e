// Every engine gives the same ids as the reference on real text, in all five encodings; text holding
// special-token strings is encoded as ordinary text; the flowlm engine's cache stays within its bound.
import { afterAll, describe, expect, it } from 'vitest';
import { get_encoding } from 'tiktoken';
import { createEngine, ENGINES, type TokenEngine } from '../../../operators/tokenize/engine/engines.ts';
import { ENCODING, ENCODINGS, ranksData, specialTokenId } from '../../../operators/tokenize/engine/encodings.ts';
import { FlowlmEngine } from '../../../operators/tokenize/engine/flowlm-engine.ts';
import { IdBuffer } from '../../../operators/tokenize/engine/id-buffer.ts';
import { CORNER_CASES, MULTILINGUAL, proseSample, spamSample } from './samples.ts';

const encode = (engine: TokenEngine, text: string): Int32Array => {
  const out = new IdBuffer(16);
  engine.encode(text, out);
  return out.view().slice();
};

/** `s` with lone surrogates replaced by U+FFFD, as UTF-8 encoding does. */
const wellFormed = (s: string) => s.replace(/\p{Cs}/gu, '\ufffd');

const engines: TokenEngine[] = [];
afterAll(() => {
  for (const e of engines) e.dispose();
});

describe.each(ENCODINGS)('%s', (encoding) => {
  // a different sample per encoding: together they cover more of the corpora
  const offset = ENCODINGS.indexOf(encoding);
  const docs = [...proseSample(100_000, offset), ...spamSample(100_000, offset), ...MULTILINGUAL, ...CORNER_CASES];

  it('every engine gives the reference ids (js-tiktoken) on real text', () => {
    const all = ENGINES.map((name) => createEngine(name, encoding));
    engines.push(...all);
    const reference = all.find((e) => e.engine === 'js-tiktoken')!;
    let tokens = 0;
    for (const doc of docs) {
      const want = encode(reference, doc);
      tokens += want.length;
      for (const e of all) {
        const got = encode(e, doc);
        if (got.length !== want.length || got.some((v, i) => v !== want[i])) {
          const at = got.findIndex((v, i) => v !== want[i]);
          expect.fail(
            `${e.engine} differs from js-tiktoken at id ${at} of ${JSON.stringify(doc.slice(0, 60))}...: ` +
              `${JSON.stringify(Array.from(want.slice(at, at + 5)))} vs ${JSON.stringify(Array.from(got.slice(at, at + 5)))}`,
          );
        }
      }
    }
    expect(tokens).toBeGreaterThan(20_000);
  });

  it('decodes its ids back to the text', () => {
    const flowlm = new FlowlmEngine(encoding);
    for (const doc of [...docs.slice(0, 5), ...MULTILINGUAL, ...CORNER_CASES])
      expect(flowlm.decode(encode(flowlm, doc))).toBe(wellFormed(doc));
  });

  it('encodes special-token strings in the text as ordinary text', () => {
    const specials = Object.keys(ranksData(encoding).special_tokens);
    const text = `Before ${specials.join(' and ')} after<|endoftext|>\n<|endoftext|>`;
    const wasm = get_encoding(ENCODING[encoding].tiktoken);
    try {
      const ordinary = Array.from(wasm.encode_ordinary(text));
      // tiktoken's default encode refuses the text: the strings are special there
      expect(() => wasm.encode(text)).toThrow();
      for (const name of ENGINES) {
        const e = createEngine(name, encoding);
        engines.push(e);
        const ids = Array.from(encode(e, text));
        expect(ids, name).toEqual(ordinary);
        for (const s of specials) expect(ids, `${name}: ${s}`).not.toContain(specialTokenId(encoding, s));
        expect(e.decode(ids)).toBe(text);
      }
    } finally {
      wasm.free();
    }
  });
});

describe('flowlm engine cache', () => {
  it('stays within its bound and gives the same ids when pieces are evicted', () => {
    const docs = proseSample(150_000, 5);
    const roomy = new FlowlmEngine('cl100k');
    const tiny = new FlowlmEngine('cl100k', { cacheEntries: 1024 });
    let maxSize = 0;
    for (const d of docs) {
      expect(Array.from(encode(tiny, d))).toEqual(Array.from(encode(roomy, d)));
      maxSize = Math.max(maxSize, tiny.cache.size);
    }
    expect(maxSize).toBeLessThanOrEqual(2 * 1024);
    // the text has more distinct pieces than the tiny cache holds: it evicted and re-merged
    expect(roomy.cache.size).toBeGreaterThan(2 * 1024);
    expect(tiny.cache.misses).toBeGreaterThan(roomy.cache.misses);
    // repetition makes most pieces hits even in the tiny cache
    expect(tiny.cache.hits).toBeGreaterThan(tiny.cache.misses);
  });
});
