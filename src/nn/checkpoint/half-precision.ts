// Float32 <-> bfloat16 / float16 conversion for lower-precision storage (checkpoints, safetensors export);
// compute stays float32. Both round to nearest, ties to even, as PyTorch's `t.to(torch.bfloat16)` and
// `t.half()` do (golden: test/nn/golden/half-precision.json). Half values are bit patterns in a
// Uint16Array (host byte order). Each conversion is one integer loop over a Uint32Array view of the
// float32 data: no allocation per element.
//
// NaN: bfloat16 NaN is written as 0x7FC0 (c10::BFloat16's scalar rounding; PyTorch's vectorized CPU
// kernel writes 0xFFFF, also a NaN); float16 NaN as sign | 0x7E00 (PyTorch and F16C). Infinities stay
// infinities; finite values beyond the format's range round to infinity (float16: |x| >= 65520).

export type HalfDtype = 'bf16' | 'f16';

/** Float32 values of `src` rounded to bfloat16 bit patterns (into `out` if given). */
export function f32ToBf16(src: Float32Array, out: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  checkLength(src.length, out.length, 'f32ToBf16');
  const u = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < u.length; i++) {
    const x = u[i]!;
    // adding 0x7FFF plus the kept part's lowest bit rounds the dropped 16 bits to nearest, ties to even;
    // a carry into the exponent gives the next binade or infinity, as it should
    out[i] = (x & 0x7fffffff) > 0x7f800000 ? 0x7fc0 : (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** Bfloat16 bit patterns back to float32 (exact: bfloat16 is float32's upper half). */
export function bf16ToF32(src: Uint16Array, out: Float32Array = new Float32Array(src.length)): Float32Array {
  checkLength(src.length, out.length, 'bf16ToF32');
  const u = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < src.length; i++) u[i] = src[i]! << 16;
  return out;
}

/** Float32 values of `src` rounded to IEEE binary16 bit patterns (into `out` if given). */
export function f32ToF16(src: Float32Array, out: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  checkLength(src.length, out.length, 'f32ToF16');
  const u = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < u.length; i++) {
    const x = u[i]!;
    const sign = (x >>> 16) & 0x8000;
    const a = x & 0x7fffffff;
    if (a >= 0x477ff000) {
      // 65520 (half-way from 65504 to 2^16) and beyond round to infinity; NaN stays NaN
      out[i] = sign | (a > 0x7f800000 ? 0x7e00 : 0x7c00);
    } else if (a >= 0x38800000) {
      // normal: rebias the exponent (127 -> 15), round off 13 mantissa bits, ties to even
      const t = a - 0x38000000;
      out[i] = sign | ((t + 0xfff + ((t >>> 13) & 1)) >>> 13);
    } else if (a > 0x33000000) {
      // subnormal result: |x| / 2^-24 rounded, ties to even (may round up to the smallest normal)
      const m = (a & 0x7fffff) | 0x800000;
      const shift = 126 - (a >>> 23);
      const half = 1 << (shift - 1);
      const rest = m & ((half << 1) - 1);
      let q = m >>> shift;
      if (rest > half || (rest === half && (q & 1) === 1)) q++;
      out[i] = sign | q;
    } else {
      // |x| <= 2^-25 (half the smallest subnormal, a tie that goes to the even zero)
      out[i] = sign;
    }
  }
  return out;
}

const F16_SUBNORMAL = 2 ** -24;

/** IEEE binary16 bit patterns back to float32 (exact). */
export function f16ToF32(src: Uint16Array, out: Float32Array = new Float32Array(src.length)): Float32Array {
  checkLength(src.length, out.length, 'f16ToF32');
  const u = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < src.length; i++) {
    const h = src[i]!;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    // infinity, or NaN with its payload, made quiet (as x86's F16C conversion, which torch's tensors use)
    if (e === 0x1f) u[i] = ((h & 0x8000) << 16) | 0x7f800000 | (m << 13) | (m === 0 ? 0 : 0x400000);
    else if (e !== 0) u[i] = ((h & 0x8000) << 16) | ((e + 112) << 23) | (m << 13);
    // zero and subnormals: m * 2^-24 is exact in float32 (and -0 * 2^-24 is -0)
    else out[i] = (h & 0x8000 ? -m : m) * F16_SUBNORMAL;
  }
  return out;
}

/** Float32 to `dtype` bit patterns. */
export function toHalf(dtype: HalfDtype, src: Float32Array, out?: Uint16Array): Uint16Array {
  return dtype === 'bf16' ? f32ToBf16(src, out) : f32ToF16(src, out);
}

/** `dtype` bit patterns back to float32. */
export function fromHalf(dtype: HalfDtype, src: Uint16Array, out?: Float32Array): Float32Array {
  return dtype === 'bf16' ? bf16ToF32(src, out) : f16ToF32(src, out);
}

function checkLength(n: number, outLength: number, where: string): void {
  if (outLength !== n)
    throw new RangeError(`${where}: output holds ${outLength} values, the input ${n}; pass one of ${n}`);
}
