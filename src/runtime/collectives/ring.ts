// Ring collectives over any Transport. The array is cut into worldSize chunks by shardRange; in
// reduce-scatter chunk c starts at rank c+1 and travels once around the ring, each rank adding its
// own values, so every element is summed once in a fixed order (whatever the timing) and ends,
// complete, at its owner c ('mean' divides there, once). All-gather then copies the owners' bytes
// around the ring, so every rank holds bit-identical results. Chunks move in segments of at most
// `segmentBytes`, each rank sending one segment while receiving the next, so a 30 MB gradient
// array needs only a few segments of buffering per link and all links stay busy.
// With `{ wire: 'bf16' }` all-reduce and reduce-scatter send bf16 (half the bytes) and still add in
// float32 (bf16-wire.ts says what is rounded where).
import { bf16ToF32 } from '../../nn/checkpoint/half-precision.ts';
import { Bf16Codec, wireOf, type CollectiveOptions, type WireDtype } from './bf16-wire.ts';
import { CollectiveError, shardRange, type Collective, type ReduceOp } from './collective.ts';
import { abortFailure, duringOperation, type Transport } from './transport.ts';

export interface RingOptions {
  /** most bytes per message (default 1 MiB, capped by the transport's maxMessageBytes) */
  segmentBytes?: number;
}

export const DEFAULT_SEGMENT_BYTES = 1 << 20;

/** A Collective running ring algorithms over `transport`. Operations run one at a time, in call order. */
export function ringCollective(transport: Transport, opts: RingOptions = {}): Collective {
  return new RingCollective(transport, opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES);
}

/** 32 bits identifying an operation: its sequence number and what it is (FNV-1a). */
function tagOf(seq: number, op: string, detail: string): number {
  let h = 0x811c9dc5;
  for (const ch of `${seq}:${op}:${detail}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  return h >>> 0;
}

const mod = (a: number, n: number) => ((a % n) + n) % n;
const bytesOf = (a: Float32Array, start: number, end: number) =>
  new Uint8Array(a.buffer, a.byteOffset + start * 4, (end - start) * 4);

class RingCollective implements Collective {
  readonly rank: number;
  readonly worldSize: number;
  private readonly segBytes: number;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private scratch = new Float32Array(0);
  private readonly bf16 = new Bf16Codec();
  private current = { op: '', what: '' };
  private seq = 0;
  private tag = 0;

  constructor(
    private readonly t: Transport,
    segmentBytes: number,
  ) {
    this.rank = t.rank;
    this.worldSize = t.worldSize;
    const seg = Math.min(segmentBytes, t.maxMessageBytes);
    if (!(seg >= 4))
      throw new Error(
        `ringCollective: segmentBytes must be at least 4, got ${segmentBytes} (transport allows ${t.maxMessageBytes})`,
      );
    this.segBytes = seg - (seg % 4); // a whole number of float32s per segment
  }

  allReduce(data: Float32Array, op: ReduceOp = 'sum', opts?: CollectiveOptions): Promise<void> {
    let wire: WireDtype;
    try {
      wire = wireOf(opts, 'allReduce');
    } catch (err) {
      return Promise.reject(err);
    }
    // the wire is part of the tag: ranks that disagree on it are told so instead of misreading bytes
    return this.run(
      'allReduce',
      `${op} of ${data.length} floats${wire === 'f32' ? '' : `, ${wire} wire`}`,
      async () => {
        await this.reduceScatterRing(data, op, wire);
        await this.allGatherRing(data, wire);
      },
    );
  }
  /** With the bf16 wire the owner's shard is the float32 sum (not rounded: nothing is sent after it). */
  reduceScatter(data: Float32Array, op: ReduceOp = 'sum', opts?: CollectiveOptions): Promise<void> {
    let wire: WireDtype;
    try {
      wire = wireOf(opts, 'reduceScatter');
    } catch (err) {
      return Promise.reject(err);
    }
    const detail = `${op} of ${data.length} floats${wire === 'f32' ? '' : `, ${wire} wire`}`;
    return this.run('reduceScatter', detail, () => this.reduceScatterRing(data, op, wire));
  }
  allGather(data: Float32Array): Promise<void> {
    return this.run('allGather', `of ${data.length} floats`, () => this.allGatherRing(data));
  }
  broadcast(data: Uint8Array, root: number): Promise<void> {
    if (!Number.isInteger(root) || root < 0 || root >= this.worldSize)
      return Promise.reject(
        new CollectiveError(this.rank, `broadcast: root must be a rank in [0, ${this.worldSize}), got ${root}`),
      );
    return this.run('broadcast', `of ${data.byteLength} bytes from rank ${root}`, () => this.broadcastRing(data, root));
  }
  barrier(): Promise<void> {
    // no rank can finish an all-reduce before every rank has contributed to it
    return this.run('barrier', '', async () => {
      const a = new Float32Array(this.worldSize);
      await this.reduceScatterRing(a, 'sum');
      await this.allGatherRing(a);
    });
  }
  abort(reason: Error): void {
    this.t.abort(abortFailure(this.rank, reason));
  }
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.t.close();
  }

  /** Runs `body` after the operations called before it. Its messages carry a tag derived from the
   * operation's sequence number and `detail`, so ranks that fall out of step (a different operation,
   * length, reduce op or root) are told so at the first message instead of mixing data or hanging. */
  private run(op: string, detail: string, body: () => Promise<void>): Promise<void> {
    const seq = this.seq++;
    if (this.closed)
      return Promise.reject(new CollectiveError(this.rank, `rank ${this.rank} called ${op} after close()`));
    const result = this.queue.then(async () => {
      if (this.worldSize === 1) return;
      this.current = { op, what: `operation #${seq}${detail ? `, ${detail}` : ''}` };
      this.tag = tagOf(seq, op, detail);
      try {
        await body();
      } catch (err) {
        const e = duringOperation(err, op);
        this.t.abort(e); // peers must not wait for this rank any longer
        throw e;
      }
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async reduceScatterRing(data: Float32Array, op: ReduceOp, wire: WireDtype = 'f32'): Promise<void> {
    const { rank: r, worldSize: w } = this;
    const n = data.length;
    const half = wire === 'bf16';
    const width = half ? 2 : 4; // bytes per value on the wire
    for (let s = 0; s < w - 1; s++) {
      const [os, oe] = shardRange(n, mod(r - s - 1, w), w);
      const [is, ie] = shardRange(n, mod(r - s - 2, w), w);
      const last = s === w - 2 && op === 'mean';
      // bf16: this hop's float32 partial sums rounded for the trip; the receiver adds in float32
      const out = half ? this.bf16.encode(data.subarray(os, oe)) : bytesOf(data, os, oe);
      await this.step(out, (ie - is) * width, (off, bytes) => {
        const src = half ? this.bf16.decode(bytes) : this.floats(bytes);
        const at = is + off / width;
        const dst = data.subarray(at, at + src.length);
        if (last) for (let i = 0; i < src.length; i++) dst[i] = Math.fround(dst[i]! + src[i]!) / w;
        else for (let i = 0; i < src.length; i++) dst[i] = dst[i]! + src[i]!;
      });
    }
  }

  private async allGatherRing(data: Float32Array, wire: WireDtype = 'f32'): Promise<void> {
    const { rank: r, worldSize: w } = this;
    const n = data.length;
    if (wire === 'bf16') return this.allGatherBf16(data);
    for (let s = 0; s < w - 1; s++) {
      const [os, oe] = shardRange(n, mod(r - s, w), w);
      const [is, ie] = shardRange(n, mod(r - s - 1, w), w);
      const into = bytesOf(data, is, ie);
      await this.step(bytesOf(data, os, oe), into.byteLength, (off, bytes) => into.set(bytes, off));
    }
  }

  /** All-gather of bf16 values: the owner keeps the rounded values it sends (bf16 values are float32
   * values: every copy after that is exact), so every rank ends with the same bits. */
  private async allGatherBf16(data: Float32Array): Promise<void> {
    const { rank: r, worldSize: w } = this;
    const n = data.length;
    for (let s = 0; s < w - 1; s++) {
      const [os, oe] = shardRange(n, mod(r - s, w), w);
      const [is, ie] = shardRange(n, mod(r - s - 1, w), w);
      const out = this.bf16.encode(data.subarray(os, oe));
      if (s === 0) bf16ToF32(new Uint16Array(out.buffer, out.byteOffset, oe - os), data.subarray(os, oe));
      await this.step(out, (ie - is) * 2, (off, bytes) => data.set(this.bf16.decode(bytes), is + off / 2));
    }
  }

  /** The root's bytes travel root -> root+1 -> ... -> root-1, each rank forwarding a segment while
   * it receives the next. */
  private async broadcastRing(data: Uint8Array, root: number): Promise<void> {
    const pos = mod(this.rank - root, this.worldSize);
    const segs = Math.ceil(data.byteLength / this.segBytes);
    const seg = (j: number) => data.subarray(j * this.segBytes, Math.min(data.byteLength, (j + 1) * this.segBytes));
    if (pos === 0) {
      for (let j = 0; j < segs; j++) await this.t.send(seg(j), this.tag);
      return;
    }
    let sending: Promise<void> | undefined;
    try {
      for (let j = 0; j < segs; j++) {
        const into = seg(j);
        await this.t.recv((bytes, tag) => {
          this.check(tag, bytes.byteLength, into.byteLength);
          into.set(bytes);
        });
        await sending;
        sending = pos < this.worldSize - 1 ? this.t.send(into, this.tag) : undefined;
      }
      await sending;
    } finally {
      sending?.catch(() => undefined);
    }
  }

  /** One ring step: `out` goes right while `inBytes` bytes come from the left, segment by segment;
   * `onSegment(byteOffset, bytes)` consumes each received segment. */
  private async step(
    out: Uint8Array,
    inBytes: number,
    onSegment: (offset: number, bytes: Uint8Array) => void,
  ): Promise<void> {
    const seg = this.segBytes;
    const nOut = Math.ceil(out.byteLength / seg),
      nIn = Math.ceil(inBytes / seg);
    for (let j = 0; j < Math.max(nOut, nIn); j++) {
      const sent =
        j < nOut ? this.t.send(out.subarray(j * seg, Math.min(out.byteLength, (j + 1) * seg)), this.tag) : undefined;
      const want = Math.min(seg, inBytes - j * seg);
      const got =
        j < nIn
          ? this.t.recv((bytes, tag) => {
              this.check(tag, bytes.byteLength, want);
              onSegment(j * seg, bytes);
            })
          : undefined;
      // both settle before the next segment; a failure of either rejects the step
      const [a, b] = await Promise.allSettled([sent, got]);
      if (a.status === 'rejected') throw a.reason;
      if (b.status === 'rejected') throw b.reason;
    }
  }

  private check(tag: number, got: number, want: number): void {
    if (tag === this.tag && got === want) return;
    const left = mod(this.rank - 1, this.worldSize);
    const size = tag === this.tag ? `; a ${got}-byte segment came where ${want} bytes were due` : '';
    throw new CollectiveError(
      this.rank,
      `rank ${this.rank} and rank ${left} are out of step (every rank must call the same ` +
        `collectives in the same order, with the same lengths, reduce op and root; here: ` +
        `${this.current.what}${size}) during ${this.current.op}`,
    );
  }

  /** A float32 view of received bytes; copied first when they are not 4-byte aligned (socket frames). */
  private floats(bytes: Uint8Array): Float32Array {
    if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    if (this.scratch.byteLength < bytes.byteLength) this.scratch = new Float32Array(this.segBytes / 4);
    const out = this.scratch.subarray(0, bytes.byteLength / 4);
    new Uint8Array(out.buffer, 0, bytes.byteLength).set(bytes);
    return out;
  }
}
