// Lattices for Unigram training: for every distinct string (a word, or a piece being judged for
// pruning) the edges (from, to, piece) of all its substrings that are pieces, sorted by start and then
// length, the order in which spm inserts lattice nodes (so Viterbi ties resolve like spm's: the
// earliest start wins). Built once from the seed vocabulary; the vocabulary only shrinks, so later
// steps drop dead edges instead of searching again. Where no live one-character piece starts at a
// position, an unknown node (score: lowest score - 10) covers that character, as in spm; like spm's
// trainer, its counts go to the model's first piece.
import { validPieceEnd } from './spm-script.ts';
import type { CodeTrie } from './unigram-trie.ts';

export interface Lattices {
  /** per string: its first edge (edgeStart[s]..edgeStart[s+1]) */
  edgeStart: Int32Array;
  /** per string: its length in code points */
  length: Int32Array;
  weight: Float64Array;
  from: Int32Array;
  to: Int32Array;
  piece: Int32Array;
}

export function buildLattices(
  strings: ReadonlyArray<{ cps: Int32Array; count: number }>,
  trie: CodeTrie,
  nodePiece: Int32Array,
  maxPieceLength: number,
): Lattices {
  let from = new Int32Array(1 << 16);
  let to = new Int32Array(1 << 16);
  let piece = new Int32Array(1 << 16);
  let m = 0;
  const edgeStart = new Int32Array(strings.length + 1);
  const length = new Int32Array(strings.length);
  const weight = new Float64Array(strings.length);
  strings.forEach(({ cps, count }, w) => {
    const n = cps.length;
    length[w] = n;
    weight[w] = count;
    for (let i = 0; i < n; i++) {
      const end = validPieceEnd(cps, i, n, maxPieceLength);
      let node = 0;
      for (let j = i + 1; j <= end; j++) {
        node = trie.child(node, cps[j - 1]!);
        if (node < 0) break;
        const id = nodePiece[node]!;
        if (id < 0) continue;
        if (m === from.length) {
          from = grow(from);
          to = grow(to);
          piece = grow(piece);
        }
        from[m] = i;
        to[m] = j;
        piece[m++] = id;
      }
    }
    edgeStart[w + 1] = m;
  });
  return { edgeStart, length, weight, from: from.slice(0, m), to: to.slice(0, m), piece: piece.slice(0, m) };
}

function grow(a: Int32Array): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

/** The same lattices without edges of dead pieces. */
export function dropDead(lat: Lattices, alive: Uint8Array): Lattices {
  let kept = 0;
  for (let e = 0; e < lat.piece.length; e++) if (alive[lat.piece[e]!]) kept++;
  const from = new Int32Array(kept);
  const to = new Int32Array(kept);
  const piece = new Int32Array(kept);
  const edgeStart = new Int32Array(lat.edgeStart.length);
  let k = 0;
  for (let w = 0; w < lat.length.length; w++) {
    for (let e = lat.edgeStart[w]!; e < lat.edgeStart[w + 1]!; e++) {
      if (!alive[lat.piece[e]!]) continue;
      from[k] = lat.from[e]!;
      to[k] = lat.to[e]!;
      piece[k++] = lat.piece[e]!;
    }
    edgeStart[w + 1] = k;
  }
  return { edgeStart, length: lat.length, weight: lat.weight, from, to, piece };
}

const f = Math.fround;

/** spm's LogSumExp in single precision: log(exp(x) + exp(y)), x = -Infinity for the first term. */
const logAdd = (x: number, y: number) => {
  if (x === -Infinity) return y;
  const hi = x > y ? x : y;
  const lo = x > y ? y : x;
  return hi > f(lo + 50) ? hi : f(hi + Math.log(Math.exp(f(lo - hi)) + 1));
};

/**
 * One E step: adds each piece's expected count (weighted by string counts) to `expected`. Sums run in
 * single precision in spm's order, string w accumulating into expected[w % threads] (spm's threads,
 * merged at the end), so the counts round as spm's do.
 */
export function expectedCounts(
  lat: Lattices,
  score: Float32Array,
  unkPiece: number,
  unkScore: number,
  expected: Float32Array[],
): void {
  let alpha = new Float32Array(64);
  let beta = new Float32Array(64);
  const threads = expected.length;
  for (let w = 0; w < lat.length.length; w++) {
    const out = expected[w % threads]!;
    const n = lat.length[w]!;
    const e0 = lat.edgeStart[w]!;
    const e1 = lat.edgeStart[w + 1]!;
    if (alpha.length <= n) {
      alpha = new Float32Array(2 * n + 2);
      beta = new Float32Array(2 * n + 2);
    }
    alpha.fill(-Infinity, 0, n + 1);
    alpha[0] = 0;
    // forward: into each end position, edges by increasing start (spm's end_nodes order)
    let e = e0;
    for (let i = 0; i < n; i++) {
      const a = alpha[i]!;
      if (e >= e1 || lat.from[e] !== i || lat.to[e] !== i + 1) alpha[i + 1] = logAdd(alpha[i + 1]!, f(a + unkScore));
      for (; e < e1 && lat.from[e] === i; e++) {
        const t = lat.to[e]!;
        alpha[t] = logAdd(alpha[t]!, f(a + score[lat.piece[e]!]!));
      }
    }
    // backward: out of each start position, edges by increasing length, the unknown node last
    beta[n] = 0;
    e = e1;
    for (let i = n - 1; i >= 0; i--) {
      let g = e;
      while (g > e0 && lat.from[g - 1] === i) g--;
      let b = -Infinity;
      for (let k = g; k < e; k++) b = logAdd(b, f(score[lat.piece[k]!]! + beta[lat.to[k]!]!));
      if (g === e || lat.to[g] !== i + 1) b = logAdd(b, f(unkScore + beta[i + 1]!));
      beta[i] = b;
      e = g;
    }
    const z = alpha[n]!;
    const wt = f(lat.weight[w]!);
    e = e0;
    for (let i = 0; i < n; i++) {
      const single = e < e1 && lat.from[e] === i && lat.to[e] === i + 1;
      for (; e < e1 && lat.from[e] === i; e++) {
        const p = lat.piece[e]!;
        out[p]! += wt * Math.exp(f(f(f(alpha[i]! + score[p]!) + beta[lat.to[e]!]!) - z));
      }
      if (!single) out[unkPiece]! += wt * Math.exp(f(f(f(alpha[i]! + unkScore) + beta[i + 1]!) - z));
    }
  }
  for (let t = 1; t < threads; t++) {
    const into = expected[0]!;
    const from = expected[t]!;
    for (let k = 0; k < into.length; k++) into[k]! += from[k]!;
  }
}

let best = new Float32Array(64);
let set = new Uint8Array(64);
let back = new Int32Array(64);
let backPiece = new Int32Array(64);

/**
 * The best segmentation of string w (single precision sums, earliest start wins ties, as spm), without
 * edge `skip` (or -1): its piece ids, unknown nodes as `unkPiece`, in `out`; returns its score.
 */
export function viterbi(
  lat: Lattices,
  w: number,
  score: Float32Array,
  unkPiece: number,
  unkScore: number,
  skip: number,
  out: number[],
): number {
  const n = lat.length[w]!;
  const e0 = lat.edgeStart[w]!;
  const e1 = lat.edgeStart[w + 1]!;
  if (best.length <= n) {
    best = new Float32Array(2 * n + 2);
    set = new Uint8Array(2 * n + 2);
    back = new Int32Array(2 * n + 2);
    backPiece = new Int32Array(2 * n + 2);
  }
  set.fill(0, 0, n + 1);
  best[0] = 0;
  set[0] = 1;
  let e = e0;
  for (let i = 0; i < n; i++) {
    let single = false;
    const b = best[i]!;
    for (; e < e1 && lat.from[e] === i; e++) {
      if (e === skip) continue;
      const t = lat.to[e]!;
      const p = lat.piece[e]!;
      if (t === i + 1) single = true;
      const cand = f(b + score[p]!);
      if (!set[t] || cand > best[t]!) {
        best[t] = cand;
        set[t] = 1;
        back[t] = i;
        backPiece[t] = p;
      }
    }
    if (!single) {
      const cand = f(b + unkScore);
      if (!set[i + 1] || cand > best[i + 1]!) {
        best[i + 1] = cand;
        set[i + 1] = 1;
        back[i + 1] = i;
        backPiece[i + 1] = unkPiece;
      }
    }
  }
  out.length = 0;
  for (let t = n; t > 0; t = back[t]!) out.push(backPiece[t]!);
  out.reverse();
  return best[n]!;
}
