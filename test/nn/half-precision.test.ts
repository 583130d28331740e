// Float32 <-> bfloat16 / float16 against PyTorch 1.13's conversions (test/nn/golden/half-precision.json,
// made by half-precision-golden.py): edge values bit for bit, and sweeps over millions of float32
// patterns around every rounding boundary compared through the sha256 of the output.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16, fromHalf, toHalf } from '../../src/nn/checkpoint/half-precision.ts';

interface Case {
  name: string;
  f32: number;
  bf16: number;
  bf16_f32: number;
  f16: number;
  f16_f32: number;
}
interface Sweep {
  lows: number[];
  count: number;
  sha256: string;
}
const golden = JSON.parse(readFileSync(new URL('golden/half-precision.json', import.meta.url), 'utf8')) as {
  cases: Case[];
  bf16_sweep: Sweep;
  f16_sweep: Sweep;
  f16_decode: { count: number; sha256: string };
};

const floats = (bits: number[]) => new Float32Array(Uint32Array.from(bits).buffer);
const bitsOf = (f: Float32Array) => [...new Uint32Array(f.buffer, f.byteOffset, f.length)];
const hex = (n: number) => `0x${n.toString(16)}`;
// the golden hashes are of little-endian bytes; typed arrays are in host order (little-endian here)
const sha = (a: Uint16Array | Uint32Array) =>
  createHash('sha256')
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest('hex');
const isNaNBits = (b: number) => (b & 0x7fffffff) > 0x7f800000;

/** Every float32 pattern (hi << shift) | lo, lo in `lows`, hi-major as numpy's reshape lays them out,
 * NaNs left out, as the golden script's sweep(). */
function sweep(shift: number, lows: number[]): Float32Array {
  const his = 2 ** (32 - shift);
  const out = new Uint32Array(his * lows.length);
  let n = 0;
  for (let hi = 0; hi < his; hi++)
    for (const lo of lows) {
      const b = ((hi << shift) | lo) >>> 0;
      if (!isNaNBits(b)) out[n++] = b;
    }
  return new Float32Array(out.buffer, 0, n);
}

describe('half precision (golden: PyTorch 1.13)', () => {
  const input = floats(golden.cases.map((c) => c.f32));

  it('float32 -> bfloat16 matches torch bit for bit on every edge value', () => {
    const got = f32ToBf16(input);
    const wrong = golden.cases
      .filter((c, i) => got[i] !== c.bf16)
      .map((c) => `${c.name}: ${hex(got[golden.cases.indexOf(c)]!)} != ${hex(c.bf16)}`);
    expect(wrong).toEqual([]);
    expect(golden.cases.length).toBeGreaterThan(150);
  });

  it('float32 -> float16 matches torch bit for bit on every edge value', () => {
    const got = f32ToF16(input);
    const wrong = golden.cases
      .filter((c, i) => got[i] !== c.f16)
      .map((c) => `${c.name}: ${hex(got[golden.cases.indexOf(c)]!)} != ${hex(c.f16)}`);
    expect(wrong).toEqual([]);
  });

  it('back to float32 matches torch bit for bit', () => {
    expect(bitsOf(bf16ToF32(Uint16Array.from(golden.cases.map((c) => c.bf16))))).toEqual(
      golden.cases.map((c) => c.bf16_f32),
    );
    expect(bitsOf(f16ToF32(Uint16Array.from(golden.cases.map((c) => c.f16))))).toEqual(
      golden.cases.map((c) => c.f16_f32),
    );
  });

  it('keeps NaN NaN, infinities infinite and the sign of zero', () => {
    const special = new Float32Array([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0]);
    for (const dtype of ['bf16', 'f16'] as const) {
      const back = fromHalf(dtype, toHalf(dtype, special));
      expect(Number.isNaN(back[0])).toBe(true);
      expect([...back.slice(1)]).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0]);
      expect(Object.is(back[3], -0)).toBe(true);
    }
  });

  it('bfloat16 over 391k float32 patterns around every rounding boundary equals torch (sha256)', () => {
    const x = sweep(16, golden.bf16_sweep.lows);
    expect(x.length).toBe(golden.bf16_sweep.count);
    expect(sha(f32ToBf16(x))).toBe(golden.bf16_sweep.sha256);
  });

  it('float16 over 3.1M float32 patterns around every rounding boundary equals torch (sha256)', () => {
    const x = sweep(13, golden.f16_sweep.lows);
    expect(x.length).toBe(golden.f16_sweep.count);
    expect(sha(f32ToF16(x))).toBe(golden.f16_sweep.sha256);
  });

  it('all 65536 float16 patterns decode to torch float32 (sha256)', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    expect(sha(new Uint32Array(f16ToF32(all).buffer))).toBe(golden.f16_decode.sha256);
  });

  it('rounds within half an ulp: relative error <= 2^-8 (bf16) and 2^-11 (f16, normal range)', () => {
    const x = new Float32Array(4096).map((_, i) => Math.sin(i * 12.9898) * 10 ** ((i % 9) - 4));
    const b = bf16ToF32(f32ToBf16(x));
    const h = f16ToF32(f32ToF16(x));
    for (let i = 0; i < x.length; i++) {
      expect(Math.abs(b[i]! - x[i]!)).toBeLessThanOrEqual(Math.abs(x[i]!) * 2 ** -8);
      if (Math.abs(x[i]!) >= 2 ** -14) expect(Math.abs(h[i]! - x[i]!)).toBeLessThanOrEqual(Math.abs(x[i]!) * 2 ** -11);
    }
    // converting a converted value again changes nothing
    expect([...f32ToBf16(b)]).toEqual([...f32ToBf16(x)]);
    expect([...f32ToF16(h)]).toEqual([...f32ToF16(x)]);
  });

  it('works on views at an offset, writes into a given output, refuses a wrong-sized one', () => {
    const buf = new Float32Array([9, 1, -2, 0.5]);
    const view = buf.subarray(1);
    const out = new Uint16Array(3);
    expect(f32ToBf16(view, out)).toBe(out);
    expect([...out]).toEqual([0x3f80, 0xc000, 0x3f00]);
    expect([...f32ToF16(view)]).toEqual([0x3c00, 0xc000, 0x3800]);
    expect(() => f32ToF16(view, new Uint16Array(2))).toThrow(/output holds 2 values, the input 3/);
  });
});
