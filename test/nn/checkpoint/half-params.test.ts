// saveCheckpoint's paramsDtype (trainer.checkpointDtype): params.arrow holds the weights rounded to
// bf16 or f16 (List<Uint16>, the dtype in the values field's metadata), about half the bytes; the
// loader gives float32 back, equal bit for bit to the torch-exact rounding (half-precision.ts, golden
// tested against PyTorch); optimizer.arrow (AdamW's moments) stays float32, byte for byte what an f32
// save writes; and the default still writes the float32 table every earlier checkpoint has.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataType, tableFromIPC } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import {
  loadCheckpoint,
  saveCheckpoint,
  type Checkpoint,
  type StorageDtype,
} from '../../../src/nn/checkpoint/index.ts';
import { fromHalf, toHalf } from '../../../src/nn/checkpoint/half-precision.ts';
import { Rng } from '../../../src/runtime/rng.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-half-ck-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const rng = new Rng(7);
const randn = (n: number, scale: number) => Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);
const W = randn(256 * 200, 0.02);
// values where the rounding rule shows: a tie to even, above f16's range, below its subnormals
const odd = Float32Array.of(1 + 2 ** -8, 1 + 3 * 2 ** -8, 70000, -1e-9, 3.14159, 0);

const ck = (): Checkpoint => ({
  step: 5,
  params: new Map([
    ['wte.weight', { shape: [256, 200], values: W }],
    ['odd', { shape: [6], values: odd }],
  ]),
  optimizer: {
    // v: squared gradients, far below f16's smallest subnormal (6e-8): why moments stay float32
    m: new Map([['wte.weight', { shape: [256, 200], values: randn(W.length, 1e-3) }]]),
    v: new Map([['wte.weight', { shape: [256, 200], values: randn(W.length, 1e-12).map(Math.abs) }]]),
    step: 5,
  },
  state: { rng: null, dataCursor: 3, configHash: 'abc', config: { x: 1 } },
});

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('checkpoint parameters in bf16 / f16', () => {
  const saved: Record<string, Awaited<ReturnType<typeof saveCheckpoint>>> = {};
  const original = ck();
  it('loads back as float32 equal to the rounding, bit for bit, with the moments exact', async () => {
    for (const dtype of ['f32', 'bf16', 'f16'] as StorageDtype[]) {
      saved[dtype] = await saveCheckpoint(join(tmp, dtype), original, { paramsDtype: dtype });
      const back = await loadCheckpoint(saved[dtype]!.dir);
      for (const [name, t] of original.params) {
        const want = dtype === 'f32' ? t.values : fromHalf(dtype, toHalf(dtype, t.values));
        expect(back.params.get(name)!.shape).toEqual(t.shape);
        expect(bits(back.params.get(name)!.values), `${dtype} ${name}`).toEqual(bits(want));
      }
      expect(bits(back.optimizer.v.get('wte.weight')!.values)).toEqual(
        bits(original.optimizer.v.get('wte.weight')!.values),
      );
      expect(bits(back.optimizer.m.get('wte.weight')!.values)).toEqual(
        bits(original.optimizer.m.get('wte.weight')!.values),
      );
    }
    // the rounding really happened (and is the format's: f16 overflows 70000, bf16 keeps it near)
    const odd16 = (await loadCheckpoint(saved.f16!.dir)).params.get('odd')!.values;
    const oddBf = (await loadCheckpoint(saved.bf16!.dir)).params.get('odd')!.values;
    expect(Array.from(oddBf.subarray(0, 3))).toEqual([1, 1 + 4 * 2 ** -8, 70144]);
    expect(odd16[2]).toBe(Number.POSITIVE_INFINITY);
    expect(odd16[0]).toBe(1 + 2 ** -8); // f16 has 11 significant bits: exact
  });

  it('halves params.arrow, and writes optimizer.arrow byte for byte as the f32 save does', () => {
    const size = (d: string) => statSync(join(saved[d]!.dir, 'params.arrow')).size;
    const ratioBf = size('bf16') / size('f32'),
      ratio16 = size('f16') / size('f32');
    expect(ratioBf).toBeGreaterThan(0.5);
    expect(ratioBf).toBeLessThan(0.51); // 51,206 values: names, shapes and framing are the rest
    expect(ratio16).toBeCloseTo(ratioBf, 3); // the metadata's 'f16' is a byte shorter than 'bf16'
    for (const d of ['bf16', 'f16'])
      expect(saved[d]!.sha256['optimizer.arrow']).toBe(saved.f32!.sha256['optimizer.arrow']);
  });

  it('stores plain Arrow: Uint16 values with the dtype in the field metadata; f32 stays Float32 with none', () => {
    const table = (d: string) => tableFromIPC(readFileSync(join(saved[d]!.dir, 'params.arrow')));
    const values = (d: string) => table(d).schema.fields.find((f) => f.name === 'values')!;
    for (const d of ['bf16', 'f16']) {
      const f = values(d);
      expect(f.metadata.get('flowlm.dtype')).toBe(d);
      const item = (f.type as { children: { type: DataType }[] }).children[0]!.type;
      expect(DataType.isInt(item) && item.bitWidth === 16 && !item.isSigned).toBe(true);
      // the raw bit patterns an Arrow reader sees are the rounding's
      const row = table(d).getChild('values')!.get(1)!.toArray() as Uint16Array;
      expect(Array.from(row)).toEqual(Array.from(toHalf(d as 'bf16', odd)));
    }
    // the default writes what every checkpoint before the option held: Float32, no dtype key
    const f = values('f32');
    expect(f.metadata.size).toBe(0);
    expect(DataType.isFloat((f.type as { children: { type: DataType }[] }).children[0]!.type)).toBe(true);
  });

  it('refuses an unknown dtype before writing anything', async () => {
    await expect(saveCheckpoint(join(tmp, 'bad'), ck(), { paramsDtype: 'fp8' as StorageDtype })).rejects.toThrow(
      /saveCheckpoint: paramsDtype must be f32, bf16 or f16, got fp8/,
    );
    expect(() => statSync(join(tmp, 'bad'))).toThrow();
  });
});
