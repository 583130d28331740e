// The LSH index: each band of rows signature values hashes to a 64-bit key; a table maps each key to
// the first document that had it. A document whose band key is already held meets that document as a
// candidate; with `verify`, it is a duplicate only if the Jaccard estimated from the two signatures
// reaches the threshold. It joins the candidate's cluster (clusters are named by the sequence number
// of their first document), and its own new band keys are added, so near-duplicates of a duplicate are
// found too.
// Memory bound, for maxDocs documents: bands keys x ~16 bytes (12-byte table slots at load <= 0.75)
// + 8 bytes + (verify ? 2 * numPerm : 0) bytes a document (id hash, cluster, 16 low bits of each
// minimum: b-bit MinHash, whose chance agreement of 2^-16 the estimate corrects for). With the
// defaults (128 permutations, 18 bands) about 560 bytes a document. Full: fail, or 'evict' keeps two
// generations of maxDocs/2 and forgets the older one when the newer fills.
// After a restore, a document whose id was recorded before the save is a replay: it gets the decision
// it got then (its output may not have been committed when the job stopped).
import { Table64 } from '../table64.ts';
import { arrayOf, loadState, saveState } from '../state-file.ts';
import { fmix32 } from './signature.ts';

export interface LshParams {
  numPerm: number;
  bands: number;
  rows: number;
  threshold: number;
  verify: boolean;
  maxDocs: number;
  onFull: 'fail' | 'evict';
}

const KIND = 'dedup/minhash';
const NONE = 0xffffffff;
export class IndexFullError extends Error {}

/** The 64-bit key of each band of `rows` signature values (`sig[off ..]`), as two uint32 halves. */
export function bandKeys(
  sig: Uint32Array,
  off: number,
  bands: number,
  rows: number,
  keyLo: Uint32Array,
  keyHi: Uint32Array,
): void {
  for (let b = 0; b < bands; b++) {
    let h1 = Math.imul(b + 1, 0x9e3779b1),
      h2 = Math.imul(b + 1, 0x85ebca77) ^ 0x27d4eb2f;
    for (let r = off + b * rows, end = r + rows; r < end; r++) {
      const v = sig[r]!;
      h1 = Math.imul(h1 ^ v, 0x01000193);
      h2 = Math.imul(((h2 << 5) | (h2 >>> 27)) ^ v, 0x9e3779b1);
    }
    keyLo[b] = fmix32(h1 ^ (h2 >>> 7)) >>> 0;
    keyHi[b] = fmix32(h2) >>> 0;
  }
}

/** Jaccard estimated from the 16 low bits of each minimum (`sig[off ..]` against `low16[base ..]`),
 * corrected for chance agreement. */
export function estimateJaccard(sig: Uint32Array, off: number, low16: Uint16Array, base: number, K: number): number {
  let same = 0;
  for (let i = 0; i < K; i++) if ((sig[off + i]! & 0xffff) === low16[base + i]) same++;
  const chance = 1 / 65536;
  return (same / K - chance) / (1 - chance);
}

export class LshIndex {
  /** set by `add`: whether the last document was a duplicate */
  duplicate = false;
  private gens: Table64[];
  private genStart: number[] = [0];
  private readonly perGen: number;
  private next = 0; // sequence number of the next stored document
  private restored = 0; // documents below this were recorded before a restore
  private idHash = new Uint32Array(0);
  private cluster = new Uint32Array(0);
  private low16 = new Uint16Array(0);
  private readonly keyLo: Uint32Array;
  private readonly keyHi: Uint32Array;
  private readonly cands: Uint32Array;

  constructor(
    readonly p: LshParams,
    readonly fingerprint: Record<string, unknown>,
  ) {
    if (p.bands * p.rows > p.numPerm)
      throw new Error(`LSH: bands ${p.bands} x rows ${p.rows} exceeds numPerm ${p.numPerm}`);
    this.perGen = p.onFull === 'evict' ? Math.max(1, Math.ceil(p.maxDocs / 2)) : p.maxDocs;
    this.gens = [new Table64(this.perGen * p.bands)];
    this.keyLo = new Uint32Array(p.bands);
    this.keyHi = new Uint32Array(p.bands);
    this.cands = new Uint32Array(p.bands * 2);
  }

  static bytesPerDoc(p: Pick<LshParams, 'bands' | 'numPerm' | 'verify'>): number {
    return Table64.bytesAtBound(p.bands) + 8 + (p.verify ? 2 * p.numPerm : 0);
  }
  get boundBytes(): number {
    return LshIndex.bytesPerDoc(this.p) * this.p.maxDocs;
  }
  /** documents held (not evicted) */
  get size(): number {
    return this.next - this.genStart[0]!;
  }

  describe(): string {
    return (
      `${this.size} documents held (${this.next} recorded), bound ${this.p.maxDocs} ` +
      `(~${Math.round(this.boundBytes / 2 ** 20)} MiB)`
    );
  }

  /** Decides for one signature (`sig[off .. off+numPerm)`) and records it. `idHash` is a nonzero hash of
   * the document id, or 0 when there is none (no replay detection). Returns the cluster (sequence
   * number of its first document); `duplicate` tells whether it joined an earlier one. */
  add(sig: Uint32Array, off: number, idHash: number): number {
    const { bands, rows } = this.p;
    bandKeys(sig, off, bands, rows, this.keyLo, this.keyHi);
    // candidates: the documents holding any of these keys, oldest first
    let nc = 0,
      fresh = 0;
    const alive = this.genStart[0]!;
    for (let b = 0; b < bands; b++) {
      let held = false;
      for (const g of this.gens) {
        const c = g.get(this.keyLo[b]!, this.keyHi[b]!);
        if (c < 0 || c < alive) continue;
        held = true;
        let seen = false;
        for (let j = 0; j < nc; j++)
          if (this.cands[j] === c) {
            seen = true;
            break;
          }
        if (!seen) this.cands[nc++] = c;
      }
      if (!held) fresh++;
    }
    const cands = this.cands.subarray(0, nc).sort();
    for (const c of cands) {
      if (idHash !== 0 && c < this.restored && this.idHash[c % this.ring]! === idHash >>> 0) {
        const cl = this.cluster[c % this.ring]!;
        this.duplicate = cl !== c;
        return cl;
      }
    }
    let cluster = NONE;
    for (const c of cands)
      if (!this.p.verify || this.estimate(sig, off, c) >= this.p.threshold) {
        cluster = this.cluster[c % this.ring]!;
        break;
      }
    this.duplicate = cluster !== NONE;
    // a duplicate with no band key of its own can never be met again: nothing to record
    if (this.duplicate && fresh === 0) return cluster;
    return this.record(sig, off, idHash, cluster);
  }

  /** Jaccard estimated from the 16 low bits of each minimum, corrected for chance agreement. */
  private estimate(sig: Uint32Array, off: number, c: number): number {
    const K = this.p.numPerm;
    return estimateJaccard(sig, off, this.low16, (c % this.ring) * K, K);
  }

  /** per-document slots: every live document has its own (two generations never hold more) */
  private get ring(): number {
    return this.p.onFull === 'evict' ? 2 * this.perGen : this.p.maxDocs;
  }

  private record(sig: Uint32Array, off: number, idHash: number, cluster: number): number {
    let cur = this.gens[this.gens.length - 1]!;
    if (this.next - this.genStart[this.genStart.length - 1]! >= this.perGen) {
      if (this.p.onFull === 'fail') {
        throw new IndexFullError(
          `MinHash index is full: maxDocs ${this.p.maxDocs} documents recorded ` +
            `(~${Math.round(this.boundBytes / 2 ** 20)} MiB). ` +
            `Raise maxDocs, or set onFull: 'evict' to forget the oldest half`,
        );
      }
      const older = this.gens.length > 1 ? this.gens.shift()! : new Table64(this.perGen * this.p.bands);
      if (this.genStart.length > 1) this.genStart.shift();
      older.clear();
      this.gens.push((cur = older));
      this.genStart.push(this.next);
    }
    const seq = this.next++;
    if (seq === NONE) throw new IndexFullError('MinHash index: 2^32-1 documents recorded; start a new index');
    const at = this.grow(seq);
    const own = cluster === NONE ? seq : cluster;
    this.idHash[at] = idHash >>> 0;
    this.cluster[at] = own;
    if (this.p.verify) for (let i = 0, K = this.p.numPerm; i < K; i++) this.low16[at * K + i] = sig[off + i]! & 0xffff;
    for (let b = 0; b < this.p.bands; b++) {
      // a key already held by a live older generation stays there
      if (this.gens.length > 1 && this.gens[0]!.get(this.keyLo[b]!, this.keyHi[b]!) >= 0) continue;
      cur.add(this.keyLo[b]!, this.keyHi[b]!, seq);
    }
    return own;
  }

  /** The per-document slot of `seq`, growing the arrays (by doubling, up to maxDocs) as needed. */
  private grow(seq: number): number {
    const at = seq % this.ring;
    if (at < this.idHash.length) return at;
    const n = Math.min(this.ring, Math.max(1024, this.idHash.length * 2, at + 1));
    const K = this.p.verify ? this.p.numPerm : 0;
    const idh = new Uint32Array(n);
    idh.set(this.idHash);
    this.idHash = idh;
    const cl = new Uint32Array(n);
    cl.set(this.cluster);
    this.cluster = cl;
    const lw = new Uint16Array(n * K);
    lw.set(this.low16);
    this.low16 = lw;
    return at;
  }

  async save(path: string): Promise<void> {
    const arrays: Record<string, Uint32Array | Uint16Array> = {
      idHash: this.idHash,
      cluster: this.cluster,
      low16: this.low16,
    };
    this.gens.forEach((g, i) => {
      const a = g.arrays();
      arrays[`g${i}.lo`] = a.lo;
      arrays[`g${i}.hi`] = a.hi;
      arrays[`g${i}.val`] = a.val;
    });
    await saveState(
      path,
      { kind: KIND, fingerprint: this.fingerprint, meta: { next: this.next, genStart: this.genStart } },
      arrays,
    );
  }

  async load(path: string): Promise<boolean> {
    const s = await loadState(path, KIND, this.fingerprint);
    if (!s) return false;
    this.genStart = (s.meta.genStart as number[]).slice();
    this.next = this.restored = Number(s.meta.next);
    this.idHash = arrayOf(s, 'idHash', 'u32');
    this.cluster = arrayOf(s, 'cluster', 'u32');
    this.low16 = arrayOf(s, 'low16', 'u16');
    this.gens = this.genStart.map((_, i) => {
      const t = new Table64(this.perGen * this.p.bands);
      t.restore(arrayOf(s, `g${i}.lo`, 'u32'), arrayOf(s, `g${i}.hi`, 'u32'), arrayOf(s, `g${i}.val`, 'u32'));
      return t;
    });
    return true;
  }
}
