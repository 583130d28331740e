// safetensors export: header and offsets checked byte by byte against the format's definition, the
// reference serializer's layout (sorted names, space padding to 8 bytes), a round trip through the
// TypeScript reader, GPT-2 tensor names from the model's own parameter list, and (when Debian's
// python3-torch is installed) a PyTorch GPT-2 that loads the file with strict names and runs it.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NamedTensors } from '../../src/nn/checkpoint/index.ts';
import { gptConfig, type GptConfig } from '../../src/nn/model/config.ts';
import { initialValues, paramSpecs } from '../../src/nn/model/params.ts';
import { encodeSafetensors, readSafetensors, writeSafetensors } from '../../src/nn/checkpoint/safetensors.ts';

const root = mkdtempSync(join(tmpdir(), 'flowlm-safetensors-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The model's parameters as flowlm initialises them, with their shapes. */
function modelParams(cfg: GptConfig, seed = 1): NamedTensors {
  const values = initialValues(cfg, seed);
  return new Map(paramSpecs(cfg).map((s) => [s.name, { shape: s.shape, values: values.get(s.name)! }]));
}
const tiny = gptConfig({ vocabSize: 61, contextLength: 12, nLayer: 2, nHead: 2, dModel: 8 });
const f32le = (values: number[]) => Buffer.from(Float32Array.from(values).buffer);
const le64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};
const sha = (a: Float32Array) =>
  createHash('sha256')
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest('hex');

describe('safetensors', () => {
  it('lays out one tensor exactly as the format defines: u64 LE header length, JSON, spaces to 8 bytes, LE floats', () => {
    const bytes = Buffer.from(
      encodeSafetensors(new Map([['attn0', { shape: [1, 1, 2, 3], values: Float32Array.of(0, 1, 2, 3, 4, 5) }]]), {
        metadata: null,
      }),
    );
    const json = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
    expect(json.length % 8).not.toBe(0); // so the padding is exercised
    const padded = json + ' '.repeat(8 - (json.length % 8));
    expect(bytes.equals(Buffer.concat([le64(padded.length), Buffer.from(padded), f32le([0, 1, 2, 3, 4, 5])]))).toBe(
      true,
    );
    // no tensors, metadata only: the header is the metadata object, padded too
    const meta = Buffer.from(encodeSafetensors(new Map(), { metadata: { framework: 'pt' }, mapName: (n) => n }));
    const metaJson = '{"__metadata__":{"format":"pt","framework":"pt"}}';
    expect(meta.toString('utf8', 8)).toBe(metaJson + ' '.repeat((8 - (metaJson.length % 8)) % 8));
  });

  it("writes the model's parameters under GPT-2 names, sorted, contiguous and 8-byte aligned, with __metadata__ first", async () => {
    const params = modelParams(tiny);
    const path = join(root, 'model.safetensors');
    const out = await writeSafetensors(path, params, { metadata: { flowlm_step: '120' } });
    expect(readdirSync(root).filter((f) => f.includes('flowlm-tmp'))).toEqual([]);
    const file = readFileSync(path);
    expect(out.bytes).toBe(file.length);

    // decode the header by hand, per the format
    const n = Number(file.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const text = file.toString('utf8', 8, 8 + n);
    expect(text).toMatch(/^\{"__metadata__":\{"flowlm_step":"120","format":"pt"\},"/);
    expect(text.trimEnd().length).toBeGreaterThan(n - 8); // only the padding is spaces
    const header = JSON.parse(text) as Record<
      string,
      { dtype: string; shape: number[]; data_offsets: [number, number] }
    >;
    const names = Object.keys(header).filter((k) => k !== '__metadata__');
    expect(names).toEqual([...params.keys()].sort());
    expect(names).toContain('h.1.attn.c_attn.weight');
    expect(header['h.0.attn.c_attn.weight']).toMatchObject({ dtype: 'F32', shape: [8, 24] });
    expect(header['wte.weight']!.shape).toEqual([61, 8]);
    expect(header['wpe.weight']!.shape).toEqual([12, 8]);
    expect(names).not.toContain('lm_head.weight'); // the head is tied to wte

    let at = 0;
    for (const name of names) {
      const e = header[name]!;
      expect(e.data_offsets[0], name).toBe(at);
      const t = params.get(name)!;
      expect(e.data_offsets[1] - e.data_offsets[0]).toBe(4 * t.values.length);
      expect((8 + n + e.data_offsets[0]) % 4).toBe(0); // every float is aligned in the file
      // the raw bytes at the offsets are the tensor's float32 values, little-endian
      const raw = file.subarray(8 + n + e.data_offsets[0], 8 + n + e.data_offsets[1]);
      for (const i of [0, t.values.length - 1]) expect(raw.readFloatLE(4 * i)).toBe(t.values[i]);
      at = e.data_offsets[1];
    }
    expect(8 + n + at).toBe(file.length);
  });

  it('reads back bit for bit, applies the name hook, and refuses clashing names and bad files', async () => {
    const params = modelParams(tiny, 7);
    params.set('edge', { shape: [2, 2], values: Float32Array.of(-0, 1.4e-45, -Infinity, 3.4028235e38) });
    const back = readSafetensors(encodeSafetensors(params));
    expect(back.metadata).toEqual({ format: 'pt' });
    for (const [name, t] of params) {
      expect(back.tensors.get(name)!.shape).toEqual(t.shape);
      expect(sha(back.tensors.get(name)!.values), name).toBe(sha(t.values));
    }
    // a hook that prefixes HF's GPT2LMHeadModel module path and leaves the extra tensor out
    const path = join(root, 'mapped.safetensors');
    const out = await writeSafetensors(path, params, { mapName: (n) => (n === 'edge' ? null : `transformer.${n}`) });
    const mapped = readSafetensors(readFileSync(path));
    expect([...mapped.tensors.keys()]).toEqual(out.names);
    expect(out.names).toEqual(
      [...params.keys()]
        .filter((n) => n !== 'edge')
        .map((n) => `transformer.${n}`)
        .sort(),
    );

    await expect(
      writeSafetensors(join(root, 'clash.safetensors'), params, { mapName: (n) => n.replace(/\.(weight|bias)$/, '') }),
    ).rejects.toThrow(/both map to "h\.0\.ln_1"/);
    expect(existsSync(join(root, 'clash.safetensors'))).toBe(false);
    const good = Buffer.from(encodeSafetensors(params));
    expect(() => readSafetensors(good.subarray(0, good.length - 4), 'cut.safetensors')).toThrow(
      /cut\.safetensors: data ends at byte/,
    );
    const lying = Buffer.from(good);
    lying.writeBigUInt64LE(BigInt(good.length), 0);
    expect(() => readSafetensors(lying)).toThrow(/header length/);
  });

  const torch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
  const hasTorch = torch.status === 0;
  if (!hasTorch)
    console.warn(
      `safetensors: PyTorch check skipped: /usr/bin/python3 cannot import torch (apt-get install python3-torch to run it)`,
    );
  it.skipIf(!hasTorch)(
    'loads into a PyTorch GPT-2 (Hugging Face names, strict) with identical values, and runs it',
    async () => {
      const params = modelParams(tiny, 3);
      const path = join(root, 'torch.safetensors');
      await writeSafetensors(path, params);
      const tokens = [5, 17, 42, 0, 60];
      const r = spawnSync(
        '/usr/bin/python3',
        [
          'test/nn/safetensors/load_with_torch.py',
          path,
          String(tiny.nLayer),
          String(tiny.nHead),
          JSON.stringify(tokens),
        ],
        { encoding: 'utf8' },
      );
      expect(r.status, r.stderr).toBe(0);
      const got = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
        metadata: Record<string, string>;
        tensors: Record<string, { shape: number[]; sha256: string }>;
        logits: number[];
      };
      expect(got.metadata).toEqual({ format: 'pt' });
      expect(Object.keys(got.tensors).sort()).toEqual([...params.keys()].sort());
      for (const [name, t] of params)
        expect(got.tensors[name], name).toEqual({ shape: t.shape, sha256: sha(t.values) });
      expect(got.logits).toHaveLength(tiny.vocabSize);
      expect(got.logits.every(Number.isFinite)).toBe(true);
    },
  );
});
