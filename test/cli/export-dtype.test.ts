// safetensors in BF16 and F16: the encoder stores PyTorch's bit patterns for the edge values of
// test/nn/golden/half-precision.json (made with torch 1.13), and `flowlm export --dtype bf16|f16` writes a
// file whose header and data, parsed here byte by byte (not through flowlm's reader), hold every
// parameter converted as PyTorch converts it.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveCheckpoint, withShapes, type NamedTensors } from '../../src/nn/checkpoint/index.ts';
import { f32ToBf16, f32ToF16 } from '../../src/nn/checkpoint/half-precision.ts';
import { encodeSafetensors, readSafetensors } from '../../src/nn/checkpoint/safetensors.ts';
import { gptConfig } from '../../src/nn/model/config.ts';
import { paramSpecs } from '../../src/nn/model/params.ts';
import { flowlm, lastJson } from './spawn.ts';

interface Case {
  name: string;
  f32: number;
  bf16: number;
  bf16_f32: number;
  f16: number;
  f16_f32: number;
}
const cases = (
  JSON.parse(readFileSync(new URL('../nn/golden/half-precision.json', import.meta.url), 'utf8')) as { cases: Case[] }
).cases;
const edgeValues = new Float32Array(Uint32Array.from(cases.map((c) => c.f32)).buffer);

/** A safetensors file parsed by hand: header entries and each tensor's raw little-endian uint16 data. */
function parseHalf(bytes: Buffer) {
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.toString('utf8', 8, 8 + n)) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const data = new Map<string, number[]>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [a, b] = e.data_offsets;
    const raw = bytes.subarray(8 + n + a, 8 + n + b);
    data.set(
      name,
      Array.from({ length: raw.length / 2 }, (_, i) => raw.readUInt16LE(2 * i)),
    );
  }
  return { headerLength: n, header, data };
}

describe('safetensors BF16 / F16 encoding (golden: PyTorch 1.13)', () => {
  for (const [dtype, key, back] of [
    ['BF16', 'bf16', 'bf16_f32'],
    ['F16', 'f16', 'f16_f32'],
  ] as const) {
    it(`${dtype}: the data are torch's bit patterns, read back as torch widens them`, () => {
      const tensors: NamedTensors = new Map([
        ['edges', { shape: [cases.length], values: edgeValues }],
        ['a.small', { shape: [1, 3], values: Float32Array.of(1, -2, 0.1) }],
      ]);
      const bytes = Buffer.from(encodeSafetensors(tensors, { dtype }));
      const file = parseHalf(bytes);
      expect(file.headerLength % 8).toBe(0);
      expect(file.header.__metadata__).toEqual({ format: 'pt' });
      expect(file.header['a.small']).toEqual({ dtype, shape: [1, 3], data_offsets: [0, 6] });
      expect(file.header.edges).toEqual({ dtype, shape: [cases.length], data_offsets: [6, 6 + 2 * cases.length] });
      expect(bytes.length).toBe(8 + file.headerLength + 2 * (3 + cases.length));
      const want = cases.map((c) => c[key]);
      expect(file.data.get('edges')!.map((b, i) => (b === want[i] ? '' : `${cases[i]!.name}: ${b}`))).toEqual(
        want.map(() => ''),
      );
      const read = readSafetensors(bytes).tensors.get('edges')!;
      expect([...new Uint32Array(read.values.buffer)]).toEqual(cases.map((c) => c[back]));
    });
  }

  it('refuses a dtype it cannot write, and reports a half tensor whose size does not fit its shape', () => {
    const tensors: NamedTensors = new Map([['x', { shape: [2], values: Float32Array.of(1, 2) }]]);
    expect(() => encodeSafetensors(tensors, { dtype: 'F8' as 'F16' })).toThrow(/dtype F8 is not supported/);
    const bytes = Buffer.from(encodeSafetensors(tensors, { dtype: 'BF16' }));
    const n = Number(bytes.readBigUInt64LE(0));
    // the same file, its header claiming 3 values: 4 bytes of BF16 cannot hold them
    const lying = Buffer.from(bytes.toString('utf8', 8, 8 + n).replace('"shape":[2]', '"shape":[3]'), 'utf8');
    const forged = Buffer.concat([bytes.subarray(0, 8), lying, bytes.subarray(8 + n)]);
    expect(() => readSafetensors(forged, 'forged')).toThrow(
      /forged: tensor "x" holds 4 bytes, its BF16 shape \[3\] needs 6/,
    );
  });
});

describe('flowlm export --dtype', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'flowlm-export-dtype-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const run = join(tmp, 'run');
  const modelConfig = gptConfig({ vocabSize: 96, contextLength: 16, nLayer: 1, nHead: 2, dModel: 16 });
  const params: NamedTensors = new Map();

  beforeAll(async () => {
    // weights spread over many magnitudes, and the golden edge values (subnormals, ties, 65520, NaN, inf)
    // at the start of the embedding
    let seed = 5;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    for (const s of paramSpecs(modelConfig)) {
      const values = new Float32Array(s.shape.reduce((a, b) => a * b, 1)).map((_, i) => rand() * 10 ** ((i % 11) - 6));
      if (s.name === 'wte.weight') values.set(edgeValues);
      params.set(s.name, { shape: s.shape, values });
    }
    const shapes = new Map([...params].map(([n, t]) => [n, t.shape]));
    const zeros = new Map([...params].map(([n, t]) => [n, new Float32Array(t.values.length)]));
    await saveCheckpoint(run, {
      step: 4,
      params,
      optimizer: { m: withShapes(zeros, shapes), v: withShapes(zeros, shapes), step: 4 },
      state: { rng: null, dataCursor: null, configHash: 'test', config: { encoding: 'gpt2', modelConfig } },
    });
  });

  const exportAs = async (dtype: string | null) => {
    const out = join(tmp, `model-${dtype}.safetensors`);
    const flag = dtype === null ? [] : ['--dtype', dtype];
    const r = await flowlm(['export', '--checkpoint', run, '--format', 'safetensors', '--out', out, '--json', ...flag]);
    expect(r.code, r.stderr).toBe(0);
    return { out, report: lastJson(r.stdout), bytes: readFileSync(out) };
  };

  it('bf16 and f16: every tensor holds the conversion of its float32 weights, half the size of f32', async () => {
    const [f32, bf16, f16] = await Promise.all([exportAs(null), exportAs('bf16'), exportAs('f16')]);
    expect(f32.report).toMatchObject({ dtype: 'f32', tensors: params.size, step: 4 });
    expect(bf16.report).toMatchObject({ dtype: 'bf16', tensors: params.size, step: 4, bytes: statSync(bf16.out).size });
    // the default is today's float32 export, exactly
    const plain = readSafetensors(f32.bytes);
    for (const [name, t] of params)
      expect(Buffer.from(plain.tensors.get(name)!.values.buffer).equals(Buffer.from(t.values.buffer)), name).toBe(true);
    for (const [file, dtype, convert] of [
      [bf16, 'BF16', f32ToBf16],
      [f16, 'F16', f32ToF16],
    ] as const) {
      const parsed = parseHalf(file.bytes);
      expect(Object.keys(parsed.header).sort()).toEqual(['__metadata__', ...params.keys()].sort());
      expect(
        JSON.parse((parsed.header.__metadata__ as unknown as Record<string, string>).flowlm_config!),
      ).toMatchObject({
        modelConfig: { dModel: 16 },
      });
      for (const [name, t] of params) {
        expect(parsed.header[name]).toMatchObject({ dtype, shape: t.shape });
        expect(parsed.data.get(name), name).toEqual([...convert(t.values)]);
      }
      // the embedding's head is the golden edge list: torch's own bit patterns
      const key = dtype === 'BF16' ? 'bf16' : 'f16';
      expect(parsed.data.get('wte.weight')!.slice(0, cases.length)).toEqual(cases.map((c) => c[key]));
      const payload = file.bytes.length - 8 - parsed.headerLength;
      expect(payload * 2).toBe(f32.bytes.length - 8 - Number(f32.bytes.readBigUInt64LE(0)));
    }
  }, 60_000);

  it('refuses an unknown dtype, and a half-precision PEFT export', async () => {
    const bad = await flowlm(['export', '--checkpoint', run, '--out', join(tmp, 'x'), '--dtype', 'fp8']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--dtype fp8 is not supported; use f32, bf16 or f16/);
    const peft = await flowlm([
      'export',
      '--checkpoint',
      run,
      '--format',
      'peft',
      '--out',
      join(tmp, 'p'),
      '--dtype',
      'bf16',
    ]);
    expect(peft.code).toBe(2);
    expect(peft.stderr).toMatch(/applies to --format safetensors/);
  }, 30_000);
});
