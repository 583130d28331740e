// A SentencePiece .model as an encoder: the ids `spm_encode --output_format=id` writes (tests compare
// every held-out line). Normalize (normalizer.ts), for BPE split before each "▁" (no piece spans one,
// checked below; then segmenting words alone gives the segmentation of the whole line) and cache per
// word, segment (unigram.ts over the whole line, or bpe.ts), then a piece that is no token becomes its UTF-8 bytes' <0xXX>
// tokens (byte_fallback) or the unknown id, one for a run of unknown pieces, as spm does.
import type { IdBuffer } from '../engine/id-buffer.ts';
import { byteTokenIds, type LoadedTokenizer, WordCache } from '../load/loaded-tokenizer.ts';
import { spmBpe } from './bpe.ts';
import { SpmNormalizer } from './normalizer.ts';
import { PieceTrie } from './piece-trie.ts';
import { PieceType, parseSpmModel, type SpmModel } from './proto.ts';
import { viterbi } from './unigram.ts';

const META = '\u2581';

export function spmTokenizer(bytes: Uint8Array, source: string): LoadedTokenizer {
  const model = parseSpmModel(bytes, source);
  return new SpmTokenizer(model, source);
}

type Segment = (s: string, i: number, j: number, ids: Int32Array, ends: Int32Array) => number;

class SpmTokenizer implements LoadedTokenizer {
  readonly kind: string;
  readonly specials = new Map<string, number>();
  readonly bos?: string;
  readonly eos?: string;
  readonly addsBos = false;
  private readonly normalizer: SpmNormalizer;
  private readonly segment: Segment;
  private readonly unkId: number;
  private readonly bytes: Int32Array | undefined;
  private readonly splitWords: boolean;
  private readonly cache = new WordCache();
  private ids = new Int32Array(256);
  private ends = new Int32Array(256);
  private readonly utf8 = new TextEncoder();

  constructor(
    model: SpmModel,
    readonly source: string,
  ) {
    const t = model.trainer;
    if (t.modelType !== 'unigram' && t.modelType !== 'bpe')
      throw new Error(`${source}: SentencePiece model_type ${t.modelType} is not supported (unigram and bpe are)`);
    this.kind = `sentencepiece ${t.modelType}${t.byteFallback ? ' (byte fallback)' : ''}`;
    this.normalizer = SpmNormalizer.of(model, source);
    const pieces = new Map<string, number>();
    const scores = new Float32Array(model.pieces.length);
    const trie = new PieceTrie();
    let minScore = Number.POSITIVE_INFINITY;
    let inner = false;
    const bytePieces = new Map<string, number>();
    model.pieces.forEach((p, id) => {
      scores[id] = p.score;
      if (p.type === PieceType.NORMAL || p.type === PieceType.USER_DEFINED) {
        if (!pieces.has(p.piece)) pieces.set(p.piece, id);
        trie.add(p.piece, id);
        if (p.type === PieceType.NORMAL) minScore = Math.min(minScore, p.score);
        if (p.piece.indexOf(META, 1) > 0) inner = true;
      } else if (p.type === PieceType.BYTE) bytePieces.set(p.piece, id);
      else if (p.type === PieceType.CONTROL || p.type === PieceType.UNKNOWN) this.specials.set(p.piece, id);
    });
    this.unkId = t.unkId;
    if (model.pieces[t.unkId]?.type !== PieceType.UNKNOWN)
      throw new Error(`${source}: unk_id ${t.unkId} is not the model's unknown piece`);
    this.bytes = t.byteFallback ? byteTokenIds((p) => bytePieces.get(p)) : undefined;
    if (t.byteFallback && !this.bytes)
      throw new Error(`${source}: byte_fallback is set but <0x00>..<0xFF> are missing`);
    this.bos = t.bosId >= 0 ? model.pieces[t.bosId]?.piece : undefined;
    this.eos = t.eosId >= 0 ? model.pieces[t.eosId]?.piece : undefined;
    // BPE only: a unigram path score runs over the whole line, and where it starts shifts float
    // rounding enough to flip near-ties (a "000" as "0"+"00" or "00"+"0": 6 of 80,439 lines of the
    // embedded corpus differed from spm_encode when words were segmented alone)
    this.splitWords =
      t.modelType === 'bpe' && !inner && model.normalizer.escapeWhitespaces && !t.treatWhitespaceAsSuffix;
    this.segment =
      t.modelType === 'unigram'
        ? (s, i, j, ids, ends) =>
            viterbi({ trie, scores, unkId: t.unkId, minScore, arithmetic: 'spm' }, s, i, j, ids, ends)
        : (s, i, j, ids, ends) => spmBpe(pieces, scores, s, i, j, ids, ends);
  }

  encode(text: string, out: IdBuffer): void {
    const s = this.normalizer.normalize(text);
    const n = s.length;
    let prevUnk = false;
    for (let i = 0; i < n; ) {
      let j = this.splitWords ? s.indexOf(META, i + 1) : -1;
      if (j < 0) j = n;
      const word = s.slice(i, j);
      // words are cached; a whole line (unigram) or a long run is not worth the memory
      const cached = word.length <= 64;
      let ids = cached ? this.cache.get(word) : undefined;
      if (!ids) {
        ids = this.encodeWord(word);
        if (cached) this.cache.set(word, ids);
      }
      // a run of unknown pieces is one unknown id, across words too
      const first = prevUnk && ids.length > 0 && ids[0] === this.unkId && !this.bytes ? 1 : 0;
      for (let k = first; k < ids.length; k++) out.push(ids[k]!);
      if (ids.length > 0) prevUnk = ids[ids.length - 1] === this.unkId;
      i = j;
    }
  }

  private encodeWord(w: string): Int32Array {
    if (this.ids.length < w.length) {
      this.ids = new Int32Array(2 * w.length);
      this.ends = new Int32Array(2 * w.length);
    }
    const count = this.segment(w, 0, w.length, this.ids, this.ends);
    const got: number[] = [];
    let start = 0;
    for (let k = 0; k < count; k++) {
      const id = this.ids[k]!;
      const end = this.ends[k]!;
      if (id >= 0 && id !== this.unkId) got.push(id);
      else if (this.bytes) for (const b of this.utf8.encode(w.slice(start, end))) got.push(this.bytes[b]!);
      else if (got.length === 0 || got[got.length - 1] !== this.unkId) got.push(this.unkId);
      start = end;
    }
    return Int32Array.from(got);
  }
}
