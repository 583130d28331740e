// The golden file's parameter formula (test/nn/golden/make_golden.py, param_value), recomputed here so
// the file need not store weights. Integer steps are exact mod 2^32 in both languages.
import { paramSpecs, sizeOf, type ParamKind } from '../../src/nn/model/params.ts';
import type { GptConfig } from '../../src/nn/model/config.ts';

function fnv1a(s: string): number {
  let h = 2166136261;
  for (const c of Buffer.from(s, 'utf8')) h = Math.imul(h ^ c, 16777619) >>> 0;
  return h >>> 0;
}

function uniform(h: number, i: number): number {
  let k = (Math.imul(i, 2654435761) + h) >>> 0;
  k = Math.imul(k ^ (k >>> 16), 0x85ebca6b) >>> 0;
  k = Math.imul(k ^ (k >>> 13), 0xc2b2ae35) >>> 0;
  k = (k ^ (k >>> 16)) >>> 0;
  return 2 * (k / 0x1_0000_0000) - 1;
}

function scaled(kind: ParamKind, name: string, u: number): number {
  if (kind === 'norm') return name.endsWith('.weight') ? 1 + 0.1 * u : 0.05 * u;
  if (kind === 'bias') return 0.05 * u;
  return 0.1 * u;
}

export function goldenParams(cfg: GptConfig): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const s of paramSpecs(cfg)) {
    const h = fnv1a(s.name);
    const v = new Float32Array(sizeOf(s.shape));
    for (let i = 0; i < v.length; i++) v[i] = scaled(s.kind, s.name, uniform(h, i));
    out.set(s.name, v);
  }
  return out;
}

export function decodeF32(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** ||a - b|| / ||b||, the per-tensor criterion (0 when both are 0). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`relErr: lengths ${a.length} and ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}
