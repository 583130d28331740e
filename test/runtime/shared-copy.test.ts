import { describe, expect, it } from 'vitest';
import { copyElements, moveWithin } from '../../src/runtime/shared-copy.ts';

// a deterministic byte pattern no shift maps onto itself
const fill = (a: Uint8Array) => {
  let x = 12345;
  for (let i = 0; i < a.length; i++) a[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
};

describe('copyElements', () => {
  it('copies like set() at every relative alignment, sizes around the chunk and small-copy bounds', () => {
    const src = new Uint8Array(new SharedArrayBuffer(80_000));
    fill(src);
    for (const n of [0, 1, 255, 256, 257, 4100, 16 << 10, (16 << 10) + 5, 70_000])
      for (let so = 0; so < 8; so++)
        for (let dOff = 0; dOff < 8; dOff++) {
          const dst = new Uint8Array(new SharedArrayBuffer(n + 40));
          const want = new Uint8Array(n + 40);
          copyElements(dst, dOff + 3, src.subarray(so, so + n));
          want.set(src.subarray(so, so + n), dOff + 3);
          expect(Buffer.compare(dst, want), `n ${n} src offset ${so} dst offset ${dOff}`).toBe(0);
        }
  });

  it('copies int32 views (token ids) between shared buffers at any element offset', () => {
    const src = new Int32Array(new SharedArrayBuffer(4 * 10_000));
    for (let i = 0; i < src.length; i++) src[i] = (i * 2654435761) | 0;
    for (const [from, at] of [
      [1, 0],
      [0, 1],
      [3, 6],
      [2, 2],
    ] as const) {
      const dst = new Int32Array(new SharedArrayBuffer(4 * 10_000));
      copyElements(dst, at, src.subarray(from, from + 5000));
      expect(Array.from(dst.subarray(at, at + 5000))).toEqual(Array.from(src.subarray(from, from + 5000)));
      expect(dst[at + 5000]).toBe(0); // nothing past the end
      if (at > 0) expect(dst[at - 1]).toBe(0);
    }
  });

  it('copies between unshared arrays too (plain set)', () => {
    const src = new Uint8Array(1000);
    fill(src);
    const dst = new Uint8Array(1010);
    copyElements(dst, 7, src.subarray(3));
    expect(Buffer.compare(dst.subarray(7, 1004), src.subarray(3))).toBe(0);
  });
});

describe('moveWithin', () => {
  it('moves a range towards the start of the same shared buffer, overlapping, as copyWithin does', () => {
    for (const shift of [1, 3, 8, 13, 20_000])
      for (const n of [300, 40_000]) {
        const buf = new Uint8Array(new SharedArrayBuffer(70_000));
        fill(buf);
        const want = Uint8Array.from(buf);
        want.copyWithin(5, 5 + shift, 5 + shift + n);
        moveWithin(buf, 5, 5 + shift, 5 + shift + n);
        expect(Buffer.compare(buf, want), `shift ${shift} n ${n}`).toBe(0);
      }
  });

  it('refuses a move towards the end (a forward chunked copy would read bytes it already wrote)', () => {
    const buf = new Uint8Array(new SharedArrayBuffer(1000));
    expect(() => moveWithin(buf, 10, 5, 500)).toThrow(/towards the start/);
  });
});
