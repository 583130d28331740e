// AdamW with its moments on disk (trainer.offload: 'disk', as DeepSpeed's ZeRO-Infinity offloads
// optimizer state to NVMe): one file holds every parameter's m and then its v; a step reads a chunk of
// a parameter's m and v (at most CHUNK elements), updates it with the same kernel as AdamW
// (adamw-update.ts, elementwise, so the bits are the same) and writes it back, so only one chunk of
// moments is in memory at a time, whatever the largest parameter (the tied embedding). The file is
// unlinked as soon as it is open: the descriptor keeps it while the process lives and the system
// reclaims it when the process ends, however it ends.
import {
  closeSync,
  fstatSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { sizeOf, type ParamSpec } from '../model/params.ts';
import type { Gpt } from '../model/gpt.ts';
import { AdamW, type AdamWOptions, type AdamWState } from './adamw.ts';
import { adamwUpdate } from './adamw-update.ts';
import type { Optimizer } from './optimizer.ts';

import { CHUNK } from './offload-chunk.ts';

export { CHUNK } from './offload-chunk.ts';

export class DiskOffloadAdamW implements Optimizer {
  /** the update's settings (AdamW's own fields and decay rule); its in-memory state stays empty */
  private readonly rule: AdamW;
  private readonly specs: ParamSpec[];
  /** element offset of each parameter's [m | v] in the file */
  private readonly offsets: number[];
  private readonly fd: number;
  /** one chunk's m and v: the only moments in memory */
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private t = 0;

  /** `chunk`: elements of m (and v) read at a time (CHUNK; tests make it small) */
  constructor(specs: ParamSpec[], o: AdamWOptions = {}, dir: string = tmpdir(), chunk = CHUNK) {
    this.rule = new AdamW([], o);
    this.specs = specs;
    let at = 0;
    this.offsets = specs.map((s) => {
      const off = at;
      at += 2 * sizeOf(s.shape);
      return off;
    });
    const work = mkdtempSync(join(dir, 'flowlm-moments-'));
    try {
      const file = join(work, 'moments.f32');
      this.fd = openSync(file, 'w+');
      unlinkSync(file);
    } catch (err) {
      throw new Error(
        `trainer offload 'disk': cannot create the moments file in ${dir} (${String(err)}); set trainer.offloadDir`,
        {
          cause: err,
        },
      );
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    ftruncateSync(this.fd, at * 4); // zeros: the moments' initial value
    if (!Number.isInteger(chunk) || chunk < 1)
      throw new RangeError(`DiskOffloadAdamW: chunk must be a whole number >= 1, got ${chunk}`);
    const size = Math.min(chunk, Math.max(0, ...specs.map((s) => sizeOf(s.shape))));
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  get step(): number {
    return this.t;
  }

  /** Bytes of moments on disk, and in memory (one chunk of m and v). */
  footprint(): { diskBytes: number; memoryBytes: number } {
    return { diskBytes: fstatSync(this.fd).size, memoryBytes: this.m.byteLength + this.v.byteLength };
  }

  async apply(model: Gpt, grads: Map<string, Float32Array>, lr: number): Promise<void> {
    const t = this.t + 1;
    const { beta1: b1, beta2: b2, eps } = this.rule;
    // the same scalars, computed the same way, as AdamW.apply
    const stepSize = lr / (1 - Math.pow(b1, t));
    const bc2Sqrt = Math.sqrt(1 - Math.pow(b2, t));
    this.specs.forEach((spec, i) => {
      const g = grads.get(spec.name);
      if (!g)
        throw new Error(`DiskOffloadAdamW: no gradient for ${spec.name}; every parameter needs one (zeros if unused)`);
      const param = model.param(spec.name);
      const p = (param.dataSync() as Float32Array).slice();
      if (g.length !== p.length)
        throw new Error(`DiskOffloadAdamW: gradient of ${spec.name} has ${g.length} values, the parameter ${p.length}`);
      const decay = this.rule.decays(spec) ? 1 - lr * this.rule.weightDecay : 1;
      const scalars = { b1, b2, stepSize, bc2Sqrt, decay, eps };
      for (let from = 0; from < p.length; from += this.m.length) {
        const to = Math.min(p.length, from + this.m.length);
        const [m, v] = this.read(i, from, to);
        const pc = p.subarray(from, to);
        adamwUpdate(pc, pc, g.subarray(from, to), m, v, scalars);
        this.write(i, from, m, v);
      }
      tf.tidy(() => param.assign(tf.tensor(p, param.shape, 'float32')));
    });
    this.t = t;
  }

  /** The whole state read back from disk (checkpoints): a copy. */
  async fullState(): Promise<AdamWState> {
    const m = new Map<string, Float32Array>();
    const v = new Map<string, Float32Array>();
    this.specs.forEach((spec, i) => {
      const n = sizeOf(spec.shape);
      const [pm, pv] = [new Float32Array(n), new Float32Array(n)];
      this.io('read', i, 0, pm, pv);
      m.set(spec.name, pm);
      v.set(spec.name, pv);
    });
    return { step: this.t, m, v };
  }

  setState(s: AdamWState): void {
    if (!Number.isInteger(s.step) || s.step < 0)
      throw new Error(`DiskOffloadAdamW.setState: step must be a non-negative integer, got ${s.step}`);
    this.specs.forEach((spec, i) => {
      const n = sizeOf(spec.shape);
      const [m, v] = [s.m.get(spec.name), s.v.get(spec.name)];
      if (!m || !v || m.length !== n || v.length !== n)
        throw new Error(`DiskOffloadAdamW.setState: the moments of ${spec.name} are missing or not ${n} values`);
      this.io('write', i, 0, m, v);
    });
    this.t = s.step;
  }

  /** Frees the file (the system would at exit). */
  close(): void {
    closeSync(this.fd);
  }

  /** Elements [from, to) of parameter i's m and v, in the chunk buffers. */
  private read(i: number, from: number, to: number): [Float32Array, Float32Array] {
    const [m, v] = [this.m.subarray(0, to - from), this.v.subarray(0, to - from)];
    this.io('read', i, from, m, v);
    return [m, v];
  }

  private write(i: number, from: number, m: Float32Array, v: Float32Array): void {
    this.io('write', i, from, m, v);
  }

  /** Reads or writes m and v of parameter i from element `from` on, whole (a short read is an error). */
  private io(op: 'read' | 'write', i: number, from: number, m: Float32Array, v: Float32Array): void {
    const n = sizeOf(this.specs[i]!.shape);
    for (const [arr, base] of [
      [m, this.offsets[i]!],
      [v, this.offsets[i]! + n],
    ] as const) {
      const bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
      for (let done = 0; done < bytes.length; ) {
        const at = (base + from) * 4 + done;
        const k =
          op === 'read'
            ? readSync(this.fd, bytes, done, bytes.length - done, at)
            : writeSync(this.fd, bytes, done, bytes.length - done, at);
        if (k === 0) throw new Error(`DiskOffloadAdamW: the moments file ended early at ${this.specs[i]!.name}`);
        done += k;
      }
    }
  }
}
