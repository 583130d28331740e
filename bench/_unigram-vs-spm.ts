// flowlm's Unigram trainer against Debian's spm_train (0.1.97) on the same lines, in the same run:
// the share of spm's pieces flowlm's model has, the share of held-out lines both models encode
// identically (flowlm's Viterbi encoder on flowlm's model vs spm_encode on spm's), the same for
// flowlm's encoder on spm's model (the encoder alone), and the training times (flowlm: counting words
// and training, one thread; spm_train with `spmThreads` threads, reading its file included).
import { spmNormalize, spmWords } from '../operators/tokenize/train/spm-normalize.ts';
import { type UnigramPiece, trainUnigram } from '../operators/tokenize/train/unigram.ts';
import { encodeUnigram } from '../operators/tokenize/train/unigram-encode.ts';
import { spmEncode, spmTrainUnigram } from '../test/fixtures/spm/spm-cli.ts';
import { type CorpusSpec, NORMALIZATION_LINES, unigramCorpus } from '../test/fixtures/spm/unigram-corpus.ts';

export interface UnigramVsSpmOptions {
  /** 'embedded': Moby-Dick + State of the Union (~11 MB of lines); 'moby': Moby-Dick (~1.1 MB) */
  source?: CorpusSpec['source'];
  maxChars?: number;
  vocabSize?: number;
  /** spm_train --num_threads, reproduced by flowlm's summation order (1: a one-core comparison) */
  spmThreads?: number;
  /** leave out line-final word counts (what a caller that counts only words gives) */
  noLineEnds?: boolean;
}

const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d;

export async function unigramVsSpm(opts: UnigramVsSpmOptions = {}) {
  const vocabSize = opts.vocabSize ?? 8000;
  const spmThreads = opts.spmThreads ?? 1;
  const { train, heldOut } = unigramCorpus({ source: opts.source ?? 'embedded', maxChars: opts.maxChars ?? 0 });
  const bytes = train.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);

  const t0 = performance.now();
  const words = new Map<string, number>();
  const lineEnds = new Map<string, number>();
  for (const line of train) {
    const ws = spmWords(spmNormalize(line));
    for (const w of ws) words.set(w, (words.get(w) ?? 0) + 1);
    const last = ws.at(-1);
    if (last) lineEnds.set(last, (lineEnds.get(last) ?? 0) + 1);
  }
  const t1 = performance.now();
  let seeds = 0;
  const ours = trainUnigram(words, {
    vocabSize,
    spmThreads,
    ...(opts.noLineEnds ? {} : { lineEnds }),
    onProgress: (step, n) => {
      if (step === 'seeds') seeds = n;
    },
  });
  const t2 = performance.now();

  const spm = spmTrainUnigram(train, vocabSize, [`--num_threads=${spmThreads}`]);
  try {
    const lines = [...heldOut, ...NORMALIZATION_LINES];
    const spmIds = spmEncode(spm.modelPath, lines, 'id');
    const spmModel = { pieces: spm.pieces };
    const spelled = (m: { pieces: readonly UnigramPiece[] }, ids: readonly number[]) =>
      ids.map((id) => m.pieces[id]!.piece).join(' ');
    let sameOurs = 0;
    let sameEncoder = 0;
    lines.forEach((line, i) => {
      const ref = spelled(spmModel, spmIds[i]!.map(Number));
      if (spelled(ours, encodeUnigram(ours, line)) === ref) sameOurs++;
      if (spelled(spmModel, encodeUnigram(spmModel, line)) === ref) sameEncoder++;
    });
    const theirs = new Set(spm.pieces.map((p) => p.piece));
    const shared = ours.pieces.filter((p) => theirs.has(p.piece)).length;
    const scores = new Map(spm.pieces.map((p) => [p.piece, p.score]));
    const sameScore = ours.pieces.filter((p) => scores.get(p.piece) === p.score).length;
    return {
      corpus_mb: round(bytes / 1e6, 2),
      train_lines: train.length,
      held_out_lines: lines.length,
      vocab: vocabSize,
      spm_threads: spmThreads,
      line_ends: !opts.noLineEnds,
      seeds_flowlm: seeds,
      seeds_spm: spm.seeds,
      shared_pieces: round(shared / spm.pieces.length),
      same_scores: round(sameScore / spm.pieces.length),
      identical_lines_flowlm_model: round(sameOurs / lines.length),
      identical_lines_encoder_on_spm_model: round(sameEncoder / lines.length),
      flowlm_count_s: round((t1 - t0) / 1000, 2),
      flowlm_train_s: round((t2 - t1) / 1000, 2),
      spm_train_s: round(spm.seconds, 2),
      train_time_vs_spm: round((t2 - t0) / 1000 / spm.seconds, 2),
    };
  } finally {
    spm.dispose();
  }
}
