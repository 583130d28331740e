// Exact-dedup keys taken from UTF-8 bytes (the WebAssembly path) must equal the keys of the string
// path (decode, normalizeForExact, hash) for every text: every BMP character, astral ones, invalid
// UTF-8, whitespace runs across the 16-byte chunks the fast path reads, and the real corpora.
import { Utf8, makeData, type Data } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { ExactKeys, xxhashApi, type ExactNorm } from '../../../operators/dedup/exact-key.ts';
import { Rng } from '../../../src/runtime/rng.ts';
import { emailBodies, mobyBookChapters, mobyChapters, sotu } from './corpus.ts';

type Api = Awaited<ReturnType<typeof xxhashApi>>;
let h: Api;
beforeAll(async () => {
  h = await xxhashApi();
});

const configs: ExactNorm[] = [
  { lowercase: true, whitespace: true, punctuation: false },
  { lowercase: false, whitespace: true, punctuation: false },
  { lowercase: true, whitespace: false, punctuation: false },
  { lowercase: false, whitespace: false, punctuation: false },
];

/** A Utf8 column holding `docs` as raw bytes (which need not be valid UTF-8). */
function column(docs: Uint8Array[]): Data<Utf8> {
  const offsets = new Int32Array(docs.length + 1);
  docs.forEach((d, i) => {
    offsets[i + 1] = offsets[i]! + d.length;
  });
  const values = new Uint8Array(offsets[docs.length]!);
  docs.forEach((d, i) => values.set(d, offsets[i]!));
  return makeData({ type: new Utf8(), length: docs.length, nullCount: 0, valueOffsets: offsets, data: values });
}
const utf8 = (texts: string[]) => column(texts.map((t) => new TextEncoder().encode(t)));

/** Compares both paths on every row; returns how many rows the byte path handed to the string path. */
function compare(data: Data<Utf8>, cfg: ExactNorm, seed = 7n): number {
  const fast = new ExactKeys(cfg, h, seed),
    slow = new ExactKeys(cfg, h, seed, false);
  const bad: number[] = [];
  for (let r = 0; r < data.length; r++) if (fast.key(data, r) !== slow.key(data, r)) bad.push(r);
  expect(
    bad.map((r) =>
      JSON.stringify(
        new TextDecoder().decode(data.values.subarray(data.valueOffsets[r], data.valueOffsets[r + 1])),
      ).slice(0, 80),
    ),
  ).toEqual([]);
  return fast.fallbacks;
}

describe('exact-dedup keys from bytes', () => {
  it('equal the string path for every BMP character, alone, in words and in whitespace runs', () => {
    const texts: string[] = [];
    for (let cp = 0; cp < 0x10000; cp++) {
      if (cp >= 0xd800 && cp < 0xe000) continue;
      const ch = String.fromCharCode(cp);
      texts.push(`${ch}Word and${ch}${ch} more text to cross a chunk ${ch} end${ch}`);
    }
    for (const cfg of configs) compare(utf8(texts), cfg);
  });

  it('equal the string path for astral characters (cased scripts, emoji, CJK)', () => {
    const cps = [
      0x10400, 0x10428, 0x104b0, 0x1d400, 0x1e900, 0x1e922, 0x1f600, 0x1f130, 0x20000, 0x2a6d6, 0xe0041, 0x10fffd,
    ];
    const texts = cps.map((cp) => {
      const ch = String.fromCodePoint(cp);
      return `Some Prose ${ch} and ${ch}${ch} Then  more words here ${ch}`;
    });
    for (const cfg of configs) compare(utf8(texts), cfg);
    // emoji and CJK stay on the byte path; cased scripts below U+1F000 go to the string path
    expect(new ExactKeys(configs[0]!, h, 0n).key(utf8(['a 😀 b']), 0)).toBe(h.h64('a 😀 b', 0n));
  });

  it("equal the string path on invalid UTF-8 (the decoder's replacement characters decide)", () => {
    const invalid = [
      [0x41, 0xc0, 0x80, 0x42],
      [0x41, 0xe0, 0x80, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xf5, 0x80, 0x80, 0x80],
      [0x80, 0x41],
      [0x41, 0xc3],
      [0x41, 0xe2, 0x82],
      [0xc3, 0x41],
      [0xff, 0x20, 0x20, 0x41],
      [0xef, 0xbb, 0xbf, 0x41, 0x20],
    ].map(
      (b) =>
        new Uint8Array([
          ...new TextEncoder().encode('Prefix  Text that is long enough: '),
          ...b,
          ...new TextEncoder().encode(' And After'),
        ]),
    );
    invalid.push(new Uint8Array([0xef, 0xbb, 0xbf, 0x41, 0x42])); // a leading byte order mark, which the decoder drops
    for (const cfg of configs) compare(column(invalid), cfg);
  });

  it('equal the string path on random mixes of letters, spaces, tabs, newlines and non-ASCII', () => {
    const alphabet = [
      'a',
      'b',
      'Z',
      'Q',
      ' ',
      ' ',
      ' ',
      '\n',
      '\t',
      '\r',
      '\u000b',
      '\u00a0',
      '\u2003',
      '\u3000',
      '\ufeff',
      'é',
      'É',
      'ß',
      'Σ',
      'İ',
      '—',
      '😀',
      '.',
      '1',
      '\u0085',
      '\u001f',
    ];
    const rng = new Rng(11);
    const texts = Array.from({ length: 3000 }, () =>
      Array.from({ length: rng.below(80) }, () => alphabet[rng.below(alphabet.length)]!).join(''),
    );
    // mostly plain prose-like text too, where the 16-byte fast path runs: words, single spaces, a few runs
    const plain = ['the', 'Whale', 'sea', ' ', ' ', ' ', '  ', '\n', 'ISHMAEL', 'a,', 'b.'];
    texts.push(
      ...Array.from({ length: 2000 }, () =>
        Array.from({ length: 5 + rng.below(60) }, () => plain[rng.below(plain.length)]!).join(''),
      ),
    );
    for (const cfg of configs) compare(utf8(texts), cfg);
  });

  it('hash in WebAssembly exactly as xxhash-wasm does, for every length to 200 and any 64-bit seed', () => {
    // no lower-casing, no whitespace collapse: the key is the XXH64 of the bytes themselves
    const asIs = { lowercase: false, whitespace: false, punctuation: false };
    const rng = new Rng(5);
    const texts = Array.from({ length: 201 }, (_, n) =>
      Array.from({ length: n }, () => String.fromCharCode(32 + rng.below(95))).join(''),
    );
    const data = utf8(texts);
    for (const seed of [0n, 7n, 0x9e3779b185ebca87n, 2n ** 64n - 1n]) {
      const keys = new ExactKeys(asIs, h, seed);
      texts.forEach((t, r) => expect(keys.key(data, r)).toBe(h.h64Raw(new TextEncoder().encode(t), seed)));
      expect(keys.fallbacks).toBe(0);
    }
  });

  it('take the byte path on real prose and e-mail, with the same keys', () => {
    const real = [
      ...mobyChapters(),
      ...mobyBookChapters(),
      ...sotu(),
      ...emailBodies('easy-ham-1', 5),
      ...emailBodies('spam-1', 5),
    ].map((t) => t.text);
    const fallbacks = compare(utf8(real), configs[0]!);
    console.log(`${real.length} real documents: ${fallbacks} decided by the string path`);
    expect(fallbacks).toBeLessThan(real.length * 0.05);
  });
});
