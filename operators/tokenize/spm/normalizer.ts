// SentencePiece's Normalizer::Normalize (normalizer.cc), byte for byte: the precompiled rules (longest
// match at each position, else one UTF-8 character as is), leading, trailing and repeated spaces
// removed (remove_extra_whitespaces), a space added in front (add_dummy_prefix) and spaces written as
// U+2581 "▁" (escape_whitespaces). User-defined symbols are not protected from normalization here
// (the models this loads have none; a model with some would normalize inside them).
import { Charsmap } from './charsmap.ts';
import type { SpmModel } from './proto.ts';

const META = [0xe2, 0x96, 0x81]; // U+2581 in UTF-8
const SPACE = 0x20;

export interface SpmNormalizerOptions {
  charsmap?: Uint8Array;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
  treatWhitespaceAsSuffix?: boolean;
}

export class SpmNormalizer {
  private readonly map: Charsmap | undefined;
  private input = new Uint8Array(1024);
  private out = new Uint8Array(1024);
  private n = 0;
  private readonly at = new Int32Array(1);
  private readonly utf8 = new TextEncoder();
  private readonly text = new TextDecoder();

  constructor(
    readonly opts: SpmNormalizerOptions,
    where: string,
  ) {
    this.map = opts.charsmap && opts.charsmap.length > 0 ? new Charsmap(opts.charsmap, where) : undefined;
  }

  static of(model: SpmModel, where: string): SpmNormalizer {
    const n = model.normalizer;
    return new SpmNormalizer(
      {
        charsmap: n.precompiledCharsmap,
        addDummyPrefix: n.addDummyPrefix,
        removeExtraWhitespaces: n.removeExtraWhitespaces,
        escapeWhitespaces: n.escapeWhitespaces,
        treatWhitespaceAsSuffix: model.trainer.treatWhitespaceAsSuffix,
      },
      where,
    );
  }

  normalize(text: string): string {
    if (this.input.length < 3 * text.length) this.input = new Uint8Array(3 * text.length + 16);
    const len = this.utf8.encodeInto(text, this.input).written;
    return this.text.decode(this.normalizeBytes(this.input, len));
  }

  /** The normalized bytes of b[0, len) (a view, valid until the next call). */
  normalizeBytes(b: Uint8Array, len: number): Uint8Array {
    const o = this.opts;
    this.n = 0;
    if (this.out.length < 3 * len + 16) this.out = new Uint8Array(3 * len + 16);
    let i = 0;
    // a start of spaces (after the rules map it) goes
    if (o.removeExtraWhitespaces)
      while (i < len) {
        const used = this.prefix(b, i, len);
        if (this.pe - this.ps !== 1 || this.src[this.ps] !== SPACE) break;
        i += used;
      }
    if (i >= len) return this.out.subarray(0, 0);
    if (!o.treatWhitespaceAsSuffix && o.addDummyPrefix) this.space();
    let prevSpace = o.removeExtraWhitespaces;
    while (i < len) {
      const used = this.prefix(b, i, len);
      const src = this.src;
      let s = this.ps;
      const e = this.pe;
      while (prevSpace && s < e && src[s] === SPACE) s++;
      if (s < e) {
        if (this.n + 3 * (e - s) + 6 > this.out.length) this.grow(3 * (e - s) + 6);
        for (let k = s; k < e; k++) {
          if (src[k] === SPACE) this.space();
          else this.out[this.n++] = src[k]!;
        }
        prevSpace = src[e - 1] === SPACE;
      }
      i += used;
      if (!o.removeExtraWhitespaces) prevSpace = false;
    }
    if (o.removeExtraWhitespaces) {
      const w = o.escapeWhitespaces ? 3 : 1;
      while (this.n >= w && this.endsWithSpace()) this.n -= w;
    }
    if (o.treatWhitespaceAsSuffix && o.addDummyPrefix) this.space();
    return this.out.subarray(0, this.n);
  }

  // what prefix() found: its normalized form is src[ps, pe) (the input itself, or a replacement)
  private src: Uint8Array = this.input;
  private ps = 0;
  private pe = 0;
  private readonly replacements = new Map<number, Uint8Array>();

  /** Normalizes the prefix at b[i] into src[ps, pe); returns the input bytes it used. */
  private prefix(b: Uint8Array, i: number, len: number): number {
    const used = this.map ? this.map.longest(b, i, len, this.at) : 0;
    if (used > 0) {
      const at = this.at[0]!;
      let r = this.replacements.get(at);
      if (!r) {
        r = this.map!.replacement(at);
        this.replacements.set(at, r);
      }
      this.src = r;
      this.ps = 0;
      this.pe = r.length;
      return used;
    }
    const c = b[i]!;
    const n = Math.min(c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4, len - i);
    this.src = b;
    this.ps = i;
    this.pe = i + n;
    return n;
  }

  private grow(extra: number): void {
    const next = new Uint8Array(2 * this.out.length + extra);
    next.set(this.out.subarray(0, this.n));
    this.out = next;
  }

  private space(): void {
    if (this.opts.escapeWhitespaces) for (const x of META) this.out[this.n++] = x;
    else this.out[this.n++] = SPACE;
  }

  private endsWithSpace(): boolean {
    const o = this.out,
      n = this.n;
    if (!this.opts.escapeWhitespaces) return o[n - 1] === SPACE;
    return o[n - 3] === META[0] && o[n - 2] === META[1] && o[n - 1] === META[2];
  }
}
