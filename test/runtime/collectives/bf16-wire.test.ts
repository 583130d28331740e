// The ring's bf16 wire (src/runtime/collectives/bf16-wire.ts): the exact values the rounding rule gives
// (a reference built from the rule, with the torch-exact converter of half-precision.ts), bit-identical
// ranks, half the bytes counted in the transport, and the error against the float64 sum within
// W * 2^-8 * sum|x| (one bf16 rounding, relative 2^-8 at most (8 significant bits), per hop of
// reduce-scatter and one in all-gather).
import { describe, expect, it } from 'vitest';
import { shardRange } from '../../../src/runtime/collectives/collective.ts';
import { memoryGroup } from '../../../src/runtime/collectives/memory-transport.ts';
import { bf16ToF32, f32ToBf16 } from '../../../src/nn/checkpoint/half-precision.ts';
import { countingGroup } from './counting-group.ts';
import { bitsEqual, rankInputs, reference } from './reference.ts';

const bf = (x: number) => bf16ToF32(f32ToBf16(Float32Array.of(x)))[0]!;

/** The rule, element by element: chunk c starts at rank c+1; each hop sends its float32 partial sum
 * rounded to bf16 and the next rank adds its own value in float32; the owner c ends with the float32
 * sum ('mean': divided there), which all-gather rounds to bf16 once. `scatter`: before that rounding. */
function bf16Ring(inputs: Float32Array[], op: 'sum' | 'mean', scatter = false): Float32Array {
  const w = inputs.length,
    n = inputs[0]!.length;
  const out = new Float32Array(n);
  for (let c = 0; c < w; c++) {
    const [s, e] = shardRange(n, c, w);
    for (let i = s; i < e; i++) {
      let acc = inputs[(c + 1) % w]![i]!;
      for (let k = 2; k <= w; k++) acc = Math.fround(bf(acc) + inputs[(c + k) % w]![i]!);
      if (op === 'mean') acc = Math.fround(acc / w);
      out[i] = scatter ? acc : bf(acc);
    }
  }
  return out;
}

async function allReduce(w: number, inputs: Float32Array[], op: 'sum' | 'mean', wire: 'f32' | 'bf16', seg?: number) {
  const g = countingGroup(w, { segmentBytes: seg });
  const data = inputs.map((a) => a.slice());
  await Promise.all(g.collectives.map((c) => c.allReduce(data[c.rank]!, op, { wire })));
  return { data, sent: g.sent };
}

describe('ring all-reduce with a bf16 wire', () => {
  for (const w of [2, 3, 4])
    it(`world size ${w}: every rank gets the rule's values bit for bit, aligned or not, in any segment size`, async () => {
      for (const op of ['sum', 'mean'] as const)
        for (const n of [1, 2, 3, 7, 1001])
          for (const segmentBytes of [12, 1 << 20])
            for (const misalign of [false, true]) {
              const inputs = rankInputs(w, n, n + 31 * w, 3);
              const want = bf16Ring(inputs, op);
              const g = countingGroup(w, { segmentBytes, misalign });
              const data = inputs.map((a) => a.slice());
              await Promise.all(g.collectives.map((c) => c.allReduce(data[c.rank]!, op, { wire: 'bf16' })));
              const where = `${op}, n ${n}, segment ${segmentBytes}, misaligned ${misalign}`;
              for (let r = 0; r < w; r++) expect(bitsEqual(data[r]!, want), `rank ${r}, ${where}`).toBe(true);
              // reduce-scatter alone: the owner's float32 sum, not rounded
              const scattered = inputs.map((a) => a.slice());
              const wantScatter = bf16Ring(inputs, op, true);
              await Promise.all(g.collectives.map((c) => c.reduceScatter(scattered[c.rank]!, op, { wire: 'bf16' })));
              for (let r = 0; r < w; r++) {
                const [s, e] = shardRange(n, r, w);
                expect(
                  bitsEqual(scattered[r]!.subarray(s, e), wantScatter.subarray(s, e)),
                  `shard ${r}, ${where}`,
                ).toBe(true);
              }
            }
    });

  it('sends exactly half the bytes of the float32 ring, counted in the transport', async () => {
    for (const w of [2, 3, 4]) {
      const n = 10_000;
      const inputs = rankInputs(w, n, 7);
      const f32 = await allReduce(w, inputs, 'mean', 'f32', 4096);
      const half = await allReduce(w, inputs, 'mean', 'bf16', 4096);
      // each rank sends 2 (W - 1) chunks of about n / W values: 4 bytes each, or 2
      for (let r = 0; r < w; r++) {
        expect(f32.sent[r]!).toBeGreaterThanOrEqual(Math.floor((8 * (w - 1) * n) / w) - 8 * w);
        expect(half.sent[r]! * 2).toBe(f32.sent[r]!);
      }
    }
  });

  it('stays within W * 2^-8 * sum|x| of the float64 sum, and really rounds (differs from float32)', async () => {
    // scale 1e-30: bf16 has float32's exponent range, so tiny gradients keep their relative precision
    // (float16 would flush them to zero: why fp16 needs loss scaling and this wire does not)
    for (const scale of [1, 1e-30])
      for (const w of [2, 3, 4]) {
        const n = 4096;
        const inputs = rankInputs(w, n, 11 * w, scale);
        const { value } = reference(inputs, 'sum');
        const exact = await allReduce(w, inputs, 'sum', 'f32');
        const { data } = await allReduce(w, inputs, 'sum', 'bf16');
        let worst = 0,
          differ = 0;
        for (let i = 0; i < n; i++) {
          const absSum = inputs.reduce((t, a) => t + Math.abs(a[i]!), 0);
          const err = Math.abs(data[0]![i]! - value[i]!);
          // plus float32's own W * 2^-23 * sum|x| (reference.ts's bound for the float32 ring)
          expect(err, `w ${w}, scale ${scale}, element ${i}`).toBeLessThanOrEqual(w * (2 ** -8 + 2 ** -23) * absSum);
          worst = Math.max(worst, err / absSum);
          if (data[0]![i] !== exact.data[0]![i]) differ++;
        }
        // rounding to 8 significant bits shows: errors of the order of 2^-9 of the magnitudes, most elements changed
        expect(worst).toBeGreaterThan(2 ** -11);
        expect(differ).toBeGreaterThan(n / 2);
      }
  });

  it('is the identity at world size 1, and refuses ranks that disagree on the wire or an unknown wire', async () => {
    const [one] = memoryGroup(1);
    const a = Float32Array.of(1 + 2 ** -20, -3);
    await one!.allReduce(a, 'sum', { wire: 'bf16' });
    expect(Array.from(a)).toEqual([1 + 2 ** -20, -3]); // nothing sent, nothing rounded
    const g = memoryGroup(2);
    const r = await Promise.allSettled([
      g[0]!.allReduce(new Float32Array(8), 'sum', { wire: 'bf16' }),
      g[1]!.allReduce(new Float32Array(8), 'sum'),
    ]);
    expect(r.map((x) => x.status)).toEqual(['rejected', 'rejected']);
    expect(String((r as PromiseRejectedResult[])[0]!.reason)).toMatch(
      /out of step.*bf16 wire|bf16 wire.*out of step|out of step/,
    );
    const h = memoryGroup(2);
    await expect(h[0]!.allReduce(new Float32Array(2), 'sum', { wire: 'f16' as 'bf16' })).rejects.toThrow(
      /allReduce: wire must be f32 or bf16, got f16/,
    );
  });
});
