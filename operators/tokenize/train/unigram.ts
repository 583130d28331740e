// SentencePiece's Unigram trainer (as in spm 0.1.97, Debian's spm_train) over counted words: seed
// pieces (unigram-seed.ts), then rounds of EM (a Bayesian M step: digamma of expected counts, which
// acts as a sparse prior, pieces expected < 0.5 times dropped) and pruning by likelihood loss
// (unigram-prune.ts) until the vocabulary is within 10% of its target, then the required characters
// plus the best-scoring pieces. Words are ▁-prefixed as spmWords makes them; their counts may come from
// any corpus size (the memory is in the distinct words and the seed pieces).
import { z } from 'zod';
import { UNK_CP } from './spm-script.ts';
import { buildLattices, dropDead, expectedCounts } from './unigram-lattice.ts';
import { prunePieces } from './unigram-prune.ts';
import { type CountedWord, comparePieces, requiredChars, seedPieces } from './unigram-seed.ts';

export interface UnigramPiece {
  piece: string;
  score: number;
  kind: 'normal' | 'unknown' | 'control' | 'byte';
}

export interface UnigramOptions {
  vocabSize: number;
  /** share of characters (by count) the alphabet must cover; rarer ones become unknown (spm: 0.9995) */
  characterCoverage?: number;
  /** longest piece in characters (spm: 16) */
  maxPieceLength?: number;
  /** vocabulary kept per pruning round (spm: 0.75) */
  shrinkingFactor?: number;
  /** EM iterations per pruning round (spm: 2) */
  numSubIterations?: number;
  /** number of seed pieces, characters included (spm: 1,000,000) */
  seedSentencepieceSize?: number;
  /** the unknown piece, id 0 (spm: <unk>) */
  unk?: string;
  /** control pieces after it (spm: <s>, </s>) */
  control?: string[];
  /**
   * how often each word ends a line (a subset of `words` counts): spm's seed search sees line ends, so
   * with these the seed pieces are spm's exactly; without, a handful differ (see unigram-seed.ts)
   */
  lineEnds?: Iterable<[string, number]>;
  /** fail when the text cannot give vocabSize pieces (true, as spm); false returns fewer */
  hardVocabLimit?: boolean;
  /** spm_train's --num_threads to reproduce, for its summation order (16, spm's default) */
  spmThreads?: number;
  /** called after each EM step and pruning round, for progress */
  onProgress?: (step: string, size: number) => void;
}

/** The numeric options with spm_train's defaults and ranges (for callers' configs too). */
export const unigramSettings = z.object({
  vocabSize: z.number().int().min(4),
  characterCoverage: z.number().gt(0).max(1).default(0.9995),
  maxPieceLength: z.number().int().min(1).max(512).default(16),
  shrinkingFactor: z.number().gt(0).lt(1).default(0.75),
  numSubIterations: z.number().int().min(1).default(2),
  seedSentencepieceSize: z.number().int().min(1).default(1_000_000),
  /**
   * spm_train's --num_threads (16): the E step sums expected counts in as many single-precision groups
   * (string i in group i % n), so counts round as in that spm run; results differ in the last bits
   */
  spmThreads: z.number().int().min(1).max(1024).default(16),
  /** fail when the text cannot give vocabSize pieces (spm's --hard_vocab_limit); false: fewer pieces */
  hardVocabLimit: z.boolean().default(true),
});

/** Digamma by recurrence up to 7 and the asymptotic series, as spm computes it. */
function digamma(x: number): number {
  let r = 0;
  for (; x < 7; ++x) r -= 1 / x;
  x -= 0.5;
  const xx = 1 / x;
  const xx2 = xx * xx;
  const xx4 = xx2 * xx2;
  return r + Math.log(x) + xx2 / 24 - (7 / 960) * xx4 + (31 / 8064) * xx4 * xx2 - (127 / 30720) * xx4 * xx4;
}

const f = Math.fround;
const minScore = (order: number[], score: Float32Array) => order.reduce((m, id) => Math.min(m, score[id]!), Infinity);

export function trainUnigram(words: Iterable<[string, number]>, opts: UnigramOptions): { pieces: UnigramPiece[] } {
  const parsed = unigramSettings.safeParse(opts);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`trainUnigram: option ${issue.path.join('.')}: ${issue.message}`);
  }
  const settings = parsed.data;
  const vocabSize = settings.vocabSize;
  const maxLen = settings.maxPieceLength;
  const control = opts.control ?? ['<s>', '</s>'];
  const meta = 1 + control.length;
  if (!Number.isInteger(vocabSize) || vocabSize <= meta) {
    throw new Error(`trainUnigram: vocabSize ${vocabSize} must be an integer above the ${meta} special pieces`);
  }
  const merged = new Map<string, number>();
  for (const [w, n] of words) if (w.length > 0 && n > 0) merged.set(w, (merged.get(w) ?? 0) + n);
  const ends = new Map<string, number>();
  for (const [w, n] of opts.lineEnds ?? []) ends.set(w, (ends.get(w) ?? 0) + n);
  const raw = [...merged].map(
    ([w, n]) => [Array.from(w, (c) => c.codePointAt(0)!), n, ends.get(w) ?? 0] as [number[], number, number],
  );
  const required = requiredChars(raw, settings.characterCoverage);
  if (required.size + meta > vocabSize) {
    throw new Error(
      `trainUnigram: vocabSize ${vocabSize} is below the ${required.size} required characters + ${meta} special pieces; raise vocabSize or lower characterCoverage`,
    );
  }
  const counted = replaceRare(raw, required);
  const progress = opts.onProgress ?? (() => {});
  const seeds = seedPieces(counted, maxLen, settings.seedSentencepieceSize);
  progress('seeds', seeds.pieces.length);
  const n = seeds.pieces.length;
  const cps = seeds.pieces.map((p) => Int32Array.from(Array.from(p, (c) => c.codePointAt(0)!)));
  const pieceLength = Int32Array.from(cps, (c) => c.length);
  const score = Float32Array.from(seeds.scores);
  const alive = new Uint8Array(n).fill(1);
  let order = Array.from({ length: n }, (_, i) => i);
  let lat = buildLattices(counted, seeds.trie, seeds.nodePiece, maxLen);
  progress('lattices', lat.piece.length);
  let pieceLat: ReturnType<typeof buildLattices> | undefined;
  const rowOf = new Int32Array(n).fill(-1);
  const desired = Math.floor(vocabSize * 1.1);
  for (;;) {
    for (let iter = 0; iter < settings.numSubIterations; iter++) {
      const expected = Array.from({ length: settings.spmThreads }, () => new Float32Array(n));
      expectedCounts(lat, score, order[0]!, f(minScore(order, score) - 10), expected);
      const counts = expected[0]!;
      let sum = 0;
      const next: number[] = [];
      for (const id of order) {
        if (counts[id]! < 0.5) alive[id] = 0;
        else {
          next.push(id);
          sum = f(sum + counts[id]!);
        }
      }
      const logSum = f(digamma(sum));
      for (const id of next) score[id] = f(digamma(counts[id]!) - logSum);
      order = next;
      lat = dropDead(lat, alive);
      progress(`em ${iter}`, order.length);
    }
    if (order.length <= desired) break;
    if (!pieceLat) {
      const rows = order.filter((id) => pieceLength[id]! > 1);
      rows.forEach((id, r) => {
        rowOf[id] = r;
      });
      pieceLat = buildLattices(
        rows.map((id) => ({ cps: cps[id]!, count: 1 })),
        seeds.trie,
        seeds.nodePiece,
        maxLen,
      );
    }
    pieceLat = dropDead(pieceLat, alive);
    const kept = prunePieces({
      words: lat,
      pieces: pieceLat,
      rowOf,
      order,
      score,
      unkScore: f(minScore(order, score) - 10),
      pieceLength,
      targetSize: desired,
      shrinkingFactor: settings.shrinkingFactor,
    });
    alive.fill(0);
    for (const id of kept) alive[id] = 1;
    order = kept;
    lat = dropDead(lat, alive);
    progress('prune', order.length);
  }
  const pieces = finalPieces(opts.unk ?? '<unk>', control, required, order, seeds.pieces, score, vocabSize - meta);
  if (settings.hardVocabLimit && pieces.length < vocabSize) {
    throw new Error(
      `trainUnigram: vocabulary size too high (${vocabSize}) for this text: set it to a value <= ${pieces.length}, or hardVocabLimit: false`,
    );
  }
  return { pieces };
}

/**
 * Words with characters outside the alphabet replaced by the unknown placeholder, merged, in spm's
 * order (count descending, then code points), which fixes the order of its single-precision sums.
 */
function replaceRare(raw: Array<[number[], number, number]>, required: Map<number, number>): CountedWord[] {
  const merged = new Map<string, [number, number]>();
  for (const [cps, count, lineEnds] of raw) {
    const key = String.fromCodePoint(...cps.map((c) => (required.has(c) ? c : UNK_CP)));
    const m = merged.get(key);
    if (m) {
      m[0] += count;
      m[1] += lineEnds;
    } else merged.set(key, [count, lineEnds]);
  }
  return [...merged]
    .sort((a, b) => b[1][0] - a[1][0] || comparePieces(a[0], b[0]))
    .map(([w, [count, lineEnds]]) => ({
      cps: Int32Array.from(Array.from(w, (c) => c.codePointAt(0)!)),
      count,
      lineEnds,
    }));
}

/** Required characters (a missing one scored just under the lowest score), then the best pieces. */
function finalPieces(
  unk: string,
  control: string[],
  required: Map<number, number>,
  order: number[],
  pieces: string[],
  score: Float32Array,
  size: number,
): UnigramPiece[] {
  const model = new Map(order.map((id) => [pieces[id]!, score[id]!]));
  const final = new Map<string, number>();
  const lowest = minScore(order, score);
  let penalty = 0;
  for (const [c] of [...required].sort((a, b) => b[1] - a[1] || a[0] - b[0])) {
    const s = String.fromCodePoint(c);
    const known = model.get(s);
    if (known !== undefined) final.set(s, known);
    else {
      // Distinct scores, the more frequent character a little higher, as spm does.
      final.set(s, f(lowest + penalty));
      penalty = f(penalty + 0.0001);
    }
  }
  const byScore = (a: [string, number], b: [string, number]) => b[1] - a[1] || comparePieces(a[0], b[0]);
  for (const [p, s] of [...model].sort(byScore)) {
    if (final.has(p)) continue;
    if (final.size >= size) break;
    final.set(p, s);
  }
  return [
    { piece: unk, score: 0, kind: 'unknown' as const },
    ...control.map((piece) => ({ piece, score: 0, kind: 'control' as const })),
    ...[...final].sort(byScore).map(([piece, s]) => ({ piece, score: s, kind: 'normal' as const })),
  ];
}
