// SentencePiece's pruning step (0.1.97, the Debian package's version): every piece whose best
// segmentation is itself is judged by how much the corpus likelihood drops if its occurrences (Viterbi
// counts) were re-segmented into its second-best segmentation; the pieces with the largest drops are
// kept, shrinking the vocabulary by `shrinkingFactor` per round (never below the desired size).
// Single precision is kept where spm uses floats, since ties and near-ties decide which pieces survive.
// One quirk is kept on purpose: spm 0.1.97 renormalizes with (number of pieces - 1) where it means
// (number of alternative pieces - 1); later releases fixed it, this one reproduces the packaged trainer.
import { type Lattices, viterbi } from './unigram-lattice.ts';

export interface PruneInput {
  words: Lattices;
  /** per live piece's row in `pieces`: the lattice of the piece's own characters */
  pieces: Lattices;
  rowOf: Int32Array;
  /** current model: piece ids in model order, and scores by id */
  order: number[];
  score: Float32Array;
  unkScore: number;
  pieceLength: Int32Array;
  targetSize: number;
  shrinkingFactor: number;
}

const f = Math.fround;

/** The piece ids that survive, in spm's new model order. */
export function prunePieces(input: PruneInput): number[] {
  const { words, pieces, rowOf, order, score, unkScore } = input;
  const unkPiece = order[0]!;
  const path: number[] = [];
  const freq = new Float64Array(score.length);
  let vsum = 0;
  for (let w = 0; w < words.length.length; w++) {
    const weight = words.weight[w]!;
    viterbi(words, w, score, unkPiece, unkScore, -1, path);
    vsum += weight;
    for (const p of path) freq[p]! += weight;
  }
  let total = 0;
  for (const id of order) total += freq[id]!;
  const sum = f(total);
  const logSum = f(Math.log(sum));
  const kept: number[] = [];
  const candidates: Array<[number, number]> = [];
  order.forEach((id, index) => {
    const fr = f(freq[id]!);
    if (fr === 0) return;
    if (input.pieceLength[id]! === 1) {
      kept.push(id);
      return;
    }
    const row = rowOf[id]!;
    let full = -1;
    for (let e = pieces.edgeStart[row]!; e < pieces.edgeStart[row + 1]!; e++) {
      if (pieces.piece[e] === id) full = e;
    }
    const second = viterbi(pieces, row, score, unkPiece, unkScore, full, path);
    // Its best segmentation is split: removing it loses (almost) nothing.
    if (second > score[id]!) return;
    const F = f(fr / vsum);
    const logProbSp = f(Math.log(fr) - logSum);
    const logSumAlt = f(Math.log(f(sum + f(fr * (order.length - 1)))));
    let logProbAlt = 0;
    for (const n of path) logProbAlt = f(logProbAlt + f(Math.log(f(freq[n]! + fr)) - logSumAlt));
    candidates.push([index, f(F * f(logProbSp - logProbAlt))]);
  });
  const size = Math.max(input.targetSize, Math.trunc(f(input.shrinkingFactor) * order.length));
  candidates.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  for (const [index] of candidates) {
    if (kept.length >= size) break;
    kept.push(order[index]!);
  }
  return kept;
}
