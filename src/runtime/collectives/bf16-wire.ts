// bfloat16 on the wire: the ring (ring.ts) sends gradient chunks as bf16 bit patterns, half the bytes
// of float32, while every addition stays float32.
//
// What is rounded: in reduce-scatter each hop sends its float32 partial sum rounded to bf16 (round to
// nearest even) and the receiver adds it to its own float32 values; the owner ends with a float32 sum.
// In all-gather the owner rounds its chunk to bf16 once, in place, and sends those values; bf16 values
// are float32 values, so the copies every rank receives are exact and all ranks end bit-identical.
// Error: each rounding is at most relative 2^-8 (8 significant bits: 7 stored and the implicit one), W - 1
// of them in reduce-scatter on partial sums and one in all-gather, so |result - exact sum| <=
// W * 2^-8 * sum_r |x_r| (plus float32's own W * 2^-23): 2 to 3 significant decimal digits, versus 7.
//
// When it pays: when the all-reduce is bandwidth-bound, i.e. the link is slower than the conversions
// (processes on different machines over TCP). Each rank of two encodes and decodes n values per
// all-reduce to send 2n bytes fewer; bench/bf16-allreduce.mts measures the break-even link speed
// (about 150 MB/s on a loaded 2-core machine, about 1 GbE) and TCP loopback far above it: there bf16
// takes 1.2x the f32 time (threads sharing memory are faster still). Why no loss scaling: bf16 has
// float32's 8 exponent bits, so gradients as small as 1e-38 stay representable and only precision is
// lost; float16's 5 exponent bits flush values below 6e-8 (2^-24) to zero, which is why fp16 training
// scales the loss (Micikevicius et al., "Mixed Precision Training", 2018) and why this wire offers no
// f16. The optimizer still sees float32
// gradients (each the mean rounded to bf16), and AdamW's moments and the weights stay float32.

import { bf16ToF32, f32ToBf16 } from '../../nn/checkpoint/half-precision.ts';

/** How the ring carries float32 values between ranks. */
export type WireDtype = 'f32' | 'bf16';

export interface CollectiveOptions {
  /** what the values travel as (default f32, exact); bf16 halves the bytes (see bf16-wire.ts) */
  wire?: WireDtype;
}

/** The wire an operation uses; throws a RangeError naming the bad value. */
export function wireOf(opts: CollectiveOptions | undefined, where: string): WireDtype {
  const wire = opts?.wire ?? 'f32';
  if (wire !== 'f32' && wire !== 'bf16')
    throw new RangeError(`${where}: wire must be f32 or bf16, got ${String(wire)}`);
  return wire;
}

/** Conversions with reused scratch buffers: one encoded chunk and one decoded segment at a time. */
export class Bf16Codec {
  private out = new Uint16Array(0);
  private halves = new Uint16Array(0);
  private floats = new Float32Array(0);

  /** The bf16 bytes of `values`; valid until the next encode. */
  encode(values: Float32Array): Uint8Array {
    if (this.out.length < values.length) this.out = new Uint16Array(values.length);
    const out = f32ToBf16(values, this.out.subarray(0, values.length));
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }

  /** The float32 values of received bf16 bytes (copied first when not 2-byte aligned, as socket
   * frames may be); valid until the next decode. */
  decode(bytes: Uint8Array): Float32Array {
    const n = bytes.byteLength >> 1;
    let src: Uint16Array;
    if (bytes.byteOffset % 2 === 0) src = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
    else {
      if (this.halves.length < n) this.halves = new Uint16Array(n);
      src = this.halves.subarray(0, n);
      new Uint8Array(src.buffer, 0, n * 2).set(bytes);
    }
    if (this.floats.length < n) this.floats = new Float32Array(n);
    return bf16ToF32(src, this.floats.subarray(0, n));
  }
}
