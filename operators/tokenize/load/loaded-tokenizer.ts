// What a tokenizer loaded from a file (a Hugging Face tokenizer.json, a SentencePiece .model, a
// tiktoken ranks file) gives the `tokenize` operator: an encoder of ordinary text into an IdBuffer
// (special-token strings in the text are text, as in tokenize.ts) and the ids of its special tokens.
import type { IdBuffer } from '../engine/id-buffer.ts';

export interface LoadedTokenizer {
  /** the file it was loaded from, for messages */
  readonly source: string;
  /** what kind of file and model: "sentencepiece unigram", "tokenizer.json BPE (fast engine)"... */
  readonly kind: string;
  /** Appends the ids of `text` (encoded as ordinary text, no begin/end tokens) to `out`. */
  encode(text: string, out: IdBuffer): void;
  /** special and control tokens by their strings (<s>, </s>, [SEP], <|endoftext|>...) */
  readonly specials: ReadonlyMap<string, number>;
  /** the begin token the file configures (a template's first token, SentencePiece's bos_id), if any */
  readonly bos?: string;
  /** whether the file adds `bos` to every text (a tokenizer.json template does; spm_encode does not) */
  readonly addsBos: boolean;
  /** the end-of-text token the file configures, if any */
  readonly eos?: string;
}

/** A small bounded word -> ids cache: cleared when full (real text repeats its words). */
export class WordCache {
  private map = new Map<string, Int32Array>();
  constructor(readonly maxEntries = 1 << 16) {}

  get(word: string): Int32Array | undefined {
    return this.map.get(word);
  }

  set(word: string, ids: Int32Array): void {
    if (this.map.size >= this.maxEntries) this.map = new Map();
    this.map.set(word, ids);
  }
}

/** Ids of the tokens "<0x00>".."<0xFF>" (byte fallback), or undefined when any is missing. */
export function byteTokenIds(idOf: (piece: string) => number | undefined): Int32Array | undefined {
  const ids = new Int32Array(256);
  for (let b = 0; b < 256; b++) {
    const id = idOf(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    if (id === undefined) return undefined;
    ids[b] = id;
  }
  return ids;
}
