// One tokenizer training run: texts in (any number, any size: pieces are counted in bounded memory,
// count-pieces.ts), then the trainer of the chosen type over the exact counts, then the files.
// Unigram (unigram.ts, SentencePiece's algorithm) counts SentencePiece's words line by line, as
// spm_train reads its input, and also the words that end a line (its seed search sees line ends).
import { z } from 'zod';
import { trainBpe, type BpeModel } from './bpe.ts';
import { PieceCounter } from './count-pieces.ts';
import { spmLineWords, splitterFor, type Splitter, type TokenizerType } from './count-split.ts';
import { trainUnigram } from './unigram.ts';
import { trainWordPiece, WORDPIECE_SPECIALS } from './wordpiece.ts';
import { bpeTokenizerJson, unigramTokenizerJson, wordPieceTokenizerJson, writeTokenizerJson } from './write-hf.ts';
import { tiktokenRanks, writeTiktoken } from './write-tiktoken.ts';

export const TrainConfig = z.object({
  type: z.enum(['bpe', 'wordpiece', 'unigram']).default('bpe').describe('byte-level BPE, WordPiece or Unigram'),
  vocabSize: z.number().int().min(1).describe('vocabulary size, special tokens included'),
  specials: z
    .array(z.string().min(1))
    .optional()
    .describe(
      'special tokens (default: <|endoftext|> for bpe, [PAD] [UNK] [CLS] [SEP] [MASK] for wordpiece, <s> </s> for unigram (after <unk>))',
    ),
  maxMemoryMB: z
    .number()
    .positive()
    .default(512)
    .describe('bound on the piece-count map; beyond it counts spill to sorted runs on disk (exact)'),
  minFrequency: z.number().int().min(1).default(2).describe('bpe, wordpiece: pairs seen fewer times are not merged'),
  lowercase: z.boolean().default(true).describe('wordpiece: lower-case and strip accents (BertNormalizer)'),
  tmpDir: z.string().optional().describe('directory for count spill runs (default: the OS temp dir)'),
});
export type TrainConfigIn = z.input<typeof TrainConfig>;
export type TrainConfigOut = z.output<typeof TrainConfig>;

export interface TrainedTokenizer {
  type: TokenizerType;
  /** the tokenizer.json object */
  json: object;
  /** bpe only: the model (ranks = ids) */
  bpe?: BpeModel;
  vocabSize: number;
  /** bpe: merges made; wordpiece: tokens merged beyond the alphabet */
  merges: number;
  /** figures of the run */
  stats: {
    bytes: number;
    texts: number;
    pieces: number;
    distinct: number;
    spills: number;
    countMs: number;
    trainMs: number;
  };
}

export class TokenizerTrainer {
  readonly cfg: TrainConfigOut;
  private readonly counter: PieceCounter;
  /** unigram: the words that end a line */
  private readonly lineEnds?: PieceCounter;
  private readonly split: Splitter;
  private bytes = 0;
  private texts = 0;
  private countMs = 0;

  constructor(config: TrainConfigIn) {
    this.cfg = TrainConfig.parse(config);
    this.counter = new PieceCounter({ maxBytes: this.cfg.maxMemoryMB * 2 ** 20, tmpDir: this.cfg.tmpDir });
    if (this.cfg.type !== 'unigram') this.split = splitterFor(this.cfg.type, { lowercase: this.cfg.lowercase });
    else {
      const ends = new PieceCounter({ maxBytes: this.cfg.maxMemoryMB * 2 ** 20, tmpDir: this.cfg.tmpDir });
      this.lineEnds = ends;
      this.split = (text, emit) => spmLineWords(text, emit, (w) => ends.add(w));
    }
  }

  addText(text: string): void {
    const split = this.split;
    const t0 = performance.now();
    this.bytes += Buffer.byteLength(text);
    this.texts++;
    const counter = this.counter;
    split(text, (p) => counter.add(p));
    this.countMs += performance.now() - t0;
  }

  /** Trains on everything added (call once). */
  async finish(): Promise<TrainedTokenizer> {
    const cfg = this.cfg;
    const t0 = performance.now();
    const words = [...this.counter.entries()];
    const stats = {
      bytes: this.bytes,
      texts: this.texts,
      pieces: this.counter.total,
      distinct: words.length,
      spills: this.counter.spills,
      countMs: this.countMs + (performance.now() - t0),
      trainMs: 0,
    };
    const t1 = performance.now();
    const done = (r: Omit<TrainedTokenizer, 'stats' | 'type'>): TrainedTokenizer => ({
      ...r,
      type: cfg.type,
      stats: { ...stats, trainMs: performance.now() - t1 },
    });
    if (cfg.type === 'bpe') {
      const bpe = trainBpe(words, {
        vocabSize: cfg.vocabSize,
        minFrequency: cfg.minFrequency,
        specials: cfg.specials ?? ['<|endoftext|>'],
      });
      return done({
        json: bpeTokenizerJson(bpe),
        bpe,
        vocabSize: bpe.tokens.length + bpe.specials.length,
        merges: bpe.merges.length,
      });
    }
    if (cfg.type === 'wordpiece') {
      const wp = trainWordPiece(words, {
        vocabSize: cfg.vocabSize,
        minFrequency: cfg.minFrequency,
        specials: cfg.specials ?? WORDPIECE_SPECIALS,
      });
      return done({
        json: wordPieceTokenizerJson(wp, cfg.lowercase),
        vocabSize: wp.vocab.length,
        merges: wp.merged,
      });
    }
    const { pieces } = trainUnigram(words, {
      vocabSize: cfg.vocabSize,
      lineEnds: this.lineEnds!.entries(),
      ...(cfg.specials ? { control: cfg.specials } : {}),
    });
    return done({ json: unigramTokenizerJson(pieces), vocabSize: pieces.length, merges: 0 });
  }

  /** Removes spill files (after an error or cancellation). */
  dispose(): void {
    this.counter.dispose();
    this.lineEnds?.dispose();
  }
}

/** Writes tokenizer.json to `out` and, for bpe, the tiktoken ranks to `tiktoken`; returns the files. */
export function writeTrained(t: TrainedTokenizer, out: string, tiktoken?: string): string[] {
  if (tiktoken && !t.bpe) throw new Error(`--tiktoken: tiktoken ranks exist for bpe only (this is ${t.type})`);
  writeTokenizerJson(out, t.json);
  if (tiktoken && t.bpe) writeTiktoken(tiktoken, t.bpe);
  return tiktoken ? [out, tiktoken] : [out];
}

export { tiktokenRanks };
