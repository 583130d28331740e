// MinHash signatures with no per-shingle strings: words (or characters) are hashed straight from char
// codes, a shingle is a rolling polynomial over the last `shingleSize` unit hashes (mod 2^32), and its
// finalised 32-bit hash goes to the permutation kernel (permute.ts): h_i(x) = a_i * x + b_i mod 2^32.
// A signature is the numPerm minima in signed int32 order; the column stores their bits as Uint32.
// The `minhashSignatures` operator adds a `minhash` column (FixedSizeList<Uint32>[numPerm], null for a
// document without shingles). It is a pure kernel, so it may run on the worker pool while the LSH
// filter (filter.ts) stays on one thread.
import type { Utf8 } from 'apache-arrow';
import {
  Field,
  FixedSizeList,
  RecordBatch,
  Schema,
  Uint32,
  Utf8 as Utf8Type,
  makeData,
  makeVector,
} from 'apache-arrow';
import { defineOperator } from '../../../src/core/operator.ts';
import { mapBatch } from '../../../src/core/map-batch.ts';
import { withColumns } from '../../../src/schema/index.ts';
import { SIGNATURE_META, SignatureConfig, signatureTag, type SignatureParams } from './config.ts';
import { Permuter } from './permute.ts';
import { LOWER, WORD_CHAR, wordTables } from './tokens.ts';

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
const POLY = 0x9e3779b1 | 0;

/** murmur3's 32-bit finaliser: spreads every input bit over the output. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export class MinHasher {
  readonly numPerm: number;
  private readonly permuter: Permuter;
  private readonly ring: Int32Array;
  private readonly polyTop: number; // POLY^(size-1) mod 2^32

  /** `useSimd: false` forces the plain JS permutation loop (the bench compares the two) */
  constructor(
    readonly params: SignatureParams,
    useSimd = true,
  ) {
    wordTables();
    this.numPerm = params.numPerm;
    const a = new Int32Array(this.numPerm),
      b = new Int32Array(this.numPerm);
    let s = params.seed | 0; // splitmix32
    const next = () => fmix32((s = (s + 0x9e3779b9) | 0));
    for (let i = 0; i < this.numPerm; i++) {
      a[i] = next() | 1;
      b[i] = next();
    }
    this.permuter = new Permuter(a, b, useSimd);
    this.ring = new Int32Array(params.shingleSize);
    let p = 1;
    for (let i = 1; i < params.shingleSize; i++) p = Math.imul(p, POLY);
    this.polyTop = p;
  }

  /** whether the permutations run as WebAssembly SIMD */
  get simd(): boolean {
    return this.permuter.simd;
  }

  /** Fills `out` (numPerm int32 minima) and returns the number of shingles (0: no signature). */
  signInto(text: string, out: Int32Array): number {
    this.ring.fill(0);
    const n = this.params.unit === 'word' ? this.words(text) : this.chars(text);
    this.permuter.minima(n, out);
    return n;
  }

  /** The signature's bits as unsigned values (for tests and tools). */
  sign(text: string): Uint32Array {
    const out = new Int32Array(this.numPerm);
    this.signInto(text, out);
    return new Uint32Array(out.buffer);
  }

  /** Shingle hashes of a text into the permuter's buffer; returns how many. */
  private words(text: string): number {
    const k = this.params.shingleSize,
      ring = this.ring,
      top = this.polyTop;
    let xs = this.permuter.xs;
    let wh = FNV_OFFSET,
      inWord = false,
      s = 0,
      count = 0,
      slot = 0,
      n = 0;
    const len = text.length;
    for (let i = 0; i <= len; i++) {
      const c = i < len ? text.charCodeAt(i) : 32;
      if (WORD_CHAR[c] === 1) {
        wh = Math.imul(wh ^ LOWER[c]!, FNV_PRIME);
        inWord = true;
        continue;
      }
      if (!inWord) continue;
      inWord = false;
      s = (Math.imul(s - Math.imul(ring[slot]!, top), POLY) + wh) | 0;
      ring[slot] = wh;
      slot = slot + 1 === k ? 0 : slot + 1;
      wh = FNV_OFFSET;
      if (++count >= k) {
        if (n === xs.length) xs = this.permuter.grow(n);
        xs[n++] = fmix32(s);
      }
    }
    if (count > 0 && count < k) xs[n++] = fmix32(s);
    return n;
  }

  private chars(text: string): number {
    const k = this.params.shingleSize,
      ring = this.ring,
      top = this.polyTop;
    let xs = this.permuter.xs;
    let s = 0,
      count = 0,
      slot = 0,
      n = 0,
      gap = false;
    const len = text.length;
    for (let i = 0; i < len; i++) {
      const c0 = text.charCodeAt(i);
      if (WORD_CHAR[c0] !== 1) {
        gap = count > 0;
        continue;
      }
      // a run of non-word characters between words is one space
      for (let pass = gap ? 2 : 1; pass > 0; pass--) {
        const c = pass === 2 ? 32 : LOWER[c0]!;
        s = (Math.imul(s - Math.imul(ring[slot]!, top), POLY) + c) | 0;
        ring[slot] = c;
        slot = slot + 1 === k ? 0 : slot + 1;
        if (++count >= k) {
          if (n === xs.length) xs = this.permuter.grow(n);
          xs[n++] = fmix32(s);
        }
      }
      gap = false;
    }
    if (count > 0 && count < k) xs[n++] = fmix32(s);
    return n;
  }
}

type Text = { text: Utf8 };
export type Signature = { minhash: FixedSizeList<Uint32> };

export const signatureType = (numPerm: number) => new FixedSizeList(numPerm, new Field('item', new Uint32(), false));
export const signatureField = (p: SignatureParams) =>
  new Field('minhash', signatureType(p.numPerm), true, new Map([[SIGNATURE_META, signatureTag(p)]]));

const kernel = (cfg: SignatureParams) => {
  const hasher = new MinHasher(cfg);
  const scratch = new Int32Array(cfg.numPerm);
  return (batch: RecordBatch<Text>): RecordBatch<Signature> => {
    const n = batch.numRows,
      K = cfg.numPerm;
    const text = batch.getChild('text')!;
    const values = new Uint32Array(n * K);
    const valid = new Uint8Array((n + 7) >> 3);
    let nulls = 0;
    for (let r = 0; r < n; r++) {
      const t = text.get(r);
      if (t === null || hasher.signInto(t, scratch) === 0) {
        nulls++;
        continue;
      }
      values.set(new Uint32Array(scratch.buffer), r * K);
      valid[r >> 3]! |= 1 << (r & 7);
    }
    const field = signatureField(cfg);
    const child = makeData({ type: new Uint32(), length: n * K, data: values });
    const data = makeData({
      type: field.type,
      length: n,
      nullCount: nulls,
      nullBitmap: nulls > 0 ? valid : null,
      child,
    });
    const added = withColumns(batch, { minhash: makeVector(data) });
    // withColumns makes a plain field: put the settings tag on it for the filter to check
    const fields = added.schema.fields.map((f) => (f.name === 'minhash' ? field : f));
    return new RecordBatch(new Schema(fields, added.schema.metadata), added.data) as unknown as RecordBatch<Signature>;
  };
};

export const minhashSignatures = defineOperator({
  id: 'dedup/minhash/signature',
  description: 'MinHash signatures of the text (integer shingle hashing), as a `minhash` column; parallel',
  module: import.meta.url,
  config: SignatureConfig,
  input: () => new Schema<Text>([new Field('text', new Utf8Type(), false)]),
  passthrough: true,
  output: (cfg) => new Schema<Signature>([signatureField(cfg)]),
  kernel,
  make: (cfg, ctx) => mapBatch(kernel(cfg), { ctx }),
});
