// SentencePiece's precompiled normalization map (NormalizerSpec.precompiled_charsmap, also Hugging
// Face's `Precompiled` normalizer): a darts-clone double-array trie from UTF-8 byte strings to
// offsets of NUL-terminated replacement strings. The blob is: trie size in bytes (uint32 LE), the
// trie's uint32 units, then the replacement strings. This walks the trie as darts-clone's
// commonPrefixSearch does, so the rules are the model's own, not an approximation by NFKC.

export class Charsmap {
  private readonly units: Uint32Array;
  private readonly strings: Uint8Array;

  constructor(blob: Uint8Array, where: string) {
    if (blob.length < 4) throw new Error(`${where}: precompiled_charsmap of ${blob.length} bytes is too short`);
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const size = view.getUint32(0, true);
    if (size % 4 !== 0 || 4 + size > blob.length)
      throw new Error(`${where}: precompiled_charsmap trie size ${size} does not fit its ${blob.length} bytes`);
    this.units = new Uint32Array(size / 4);
    for (let k = 0; k < this.units.length; k++) this.units[k] = view.getUint32(4 + 4 * k, true);
    this.strings = blob.slice(4 + size);
  }

  /**
   * The longest rule matching a prefix of b[i, end): its length in bytes (0: none) in the low 32 bits
   * is returned, and the offset of its replacement is written to `at[0]`.
   */
  longest(b: Uint8Array, i: number, end: number, at: Int32Array): number {
    const units = this.units;
    let node = 0;
    let unit = units[0]!;
    node ^= offsetOf(unit);
    let best = 0;
    for (let k = i; k < end; k++) {
      const c = b[k]!;
      if (c === 0) break;
      node ^= c;
      unit = units[node]!;
      // label: the byte that leads here (a leaf flag in bit 31 makes it mismatch, as in darts-clone)
      if ((unit & 0x800000ff) >>> 0 !== c) break;
      node ^= offsetOf(unit);
      if ((unit >>> 8) & 1) {
        best = k + 1 - i;
        at[0] = units[node]! & 0x7fffffff;
      }
    }
    return best;
  }

  /** The replacement string at `offset`: its bytes up to the NUL. */
  replacement(offset: number): Uint8Array {
    let e = offset;
    while (e < this.strings.length && this.strings[e] !== 0) e++;
    return this.strings.subarray(offset, e);
  }
}

const offsetOf = (unit: number) => (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
