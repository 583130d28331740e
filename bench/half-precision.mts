// Half-precision conversions (src/nn/checkpoint/half-precision.ts) in M values/s: float32 to and from
// bfloat16 and float16 over 4M values, output buffers reused; against a plain Float32Array copy of the
// same values measured in the same run (the machine is shared: the ratio is the figure to compare).
// Medians of 5 rounds. Args: rounds=5
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../src/nn/checkpoint/half-precision.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export default async function halfPrecision(args: string[]): Promise<Record<string, number>> {
  const rounds = Number(args.find((a) => a.startsWith('rounds='))?.slice(7) ?? 5);
  const n = 1 << 22;
  const x = new Float32Array(n).map((_, i) => Math.sin(i) * 3);
  const h = new Uint16Array(n);
  const back = new Float32Array(n);
  const copy = new Float32Array(n);
  const runs: Record<string, () => void> = {
    f32_to_bf16: () => f32ToBf16(x, h),
    bf16_to_f32: () => bf16ToF32(h, back),
    f32_to_f16: () => f32ToF16(x, h),
    f16_to_f32: () => f16ToF32(h, back),
    f32_copy: () => copy.set(x),
  };
  const rates: Record<string, number[]> = {};
  for (let r = 0; r < rounds; r++)
    for (const [name, f] of Object.entries(runs)) {
      f();
      const t0 = performance.now();
      f();
      (rates[name] ??= []).push(n / ((performance.now() - t0) * 1e3));
    }
  const out: Record<string, number> = {};
  for (const [name, xs] of Object.entries(rates)) out[`${name}_mvals_per_s`] = Math.round(median(xs));
  for (const name of Object.keys(runs).filter((k) => k !== 'f32_copy'))
    out[`${name}_vs_copy`] = Number((out[`${name}_mvals_per_s`]! / out.f32_copy_mvals_per_s!).toFixed(3));
  console.log(`half-precision conversion, M values/s: ${JSON.stringify(out)}`);
  return out;
}
