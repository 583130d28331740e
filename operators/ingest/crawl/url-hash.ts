// A 64-bit hash of a URL as two 32-bit halves (two murmur-style lanes over the UTF-16 code units, each
// finished with murmur3's fmix32). The seen set keeps these instead of the URL strings: 8 bytes a URL
// in its exact phase, and the two halves drive its Bloom filter's double hashing. hi | lo is never 0
// (lo is odd), so an all-zero slot can mean "empty".

export interface Hash64 {
  hi: number;
  lo: number;
}

const fmix32 = (h: number): number => {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
};

/** The hash of `s` written into `out` (reused to avoid an allocation per link). */
export function hashUrl(s: string, out: Hash64 = { hi: 0, lo: 0 }): Hash64 {
  let a = 0x9747b28c;
  let b = 0x2545f491;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0xcc9e2d51);
    a = (a << 15) | (a >>> 17);
    b = Math.imul(b ^ c, 0x1b873593);
    b = (b << 13) | (b >>> 19);
    b = Math.imul(b, 5) + 0xe6546b64;
  }
  a ^= s.length;
  b ^= s.length;
  // cross the lanes so each half depends on both
  const hi = fmix32(a + Math.imul(b, 0x27d4eb2f));
  const lo = fmix32(b ^ hi);
  out.hi = hi;
  out.lo = (lo | 1) >>> 0;
  return out;
}

/** A second, independent key for the same URL (the crawler's "seen only too deep" mark). */
export function variantOf(h: Hash64, out: Hash64 = { hi: 0, lo: 0 }): Hash64 {
  const hi = fmix32(h.hi ^ 0x5bd1e995);
  out.lo = (fmix32(h.lo ^ 0x1b873593 ^ hi) | 1) >>> 0;
  out.hi = hi;
  return out;
}
