// Trained models as Hugging Face tokenizers' tokenizer.json (format "1.0", what tokenizers >= 0.13
// save and load): byte-level BPE as GPT-2's file is laid out (ByteLevel pre-tokenizer and decoder,
// model BPE with vocab and "a b" merges in the byte alphabet), WordPiece as BERT's (BertNormalizer,
// BertPreTokenizer, model WordPiece), Unigram as SentencePiece conversions are (Metaspace
// pre-tokenizer and decoder, model Unigram with [piece, score] pairs and unk_id). Special tokens are
// also "added_tokens" (special, not normalized), so they are matched whole in text that has them.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { writeFileAtomic } from '../../../src/runtime/files.ts';
import { byteLevelString } from './byte-alphabet.ts';
import type { BpeModel } from './bpe.ts';
import type { UnigramPiece } from './unigram.ts';
import type { WordPieceModel } from './wordpiece.ts';

export type { UnigramPiece };

const addedToken = (id: number, content: string) => ({
  id,
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized: false,
  special: true,
});

const frame = (added: ReturnType<typeof addedToken>[]) => ({
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: added,
});

export function bpeTokenizerJson(model: BpeModel): object {
  const vocab: Record<string, number> = {};
  model.tokens.forEach((t, id) => {
    vocab[byteLevelString(t)] = id;
  });
  const specials = model.specials.map((s, k) => addedToken(model.tokens.length + k, s));
  for (const s of specials) vocab[s.content] = s.id;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    ...frame(specials),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: model.merges.map(([a, b]) => `${byteLevelString(model.tokens[a]!)} ${byteLevelString(model.tokens[b]!)}`),
    },
  };
}

export function wordPieceTokenizerJson(model: WordPieceModel, lowercase: boolean): object {
  const vocab: Record<string, number> = {};
  model.vocab.forEach((t, id) => {
    vocab[t] = id;
  });
  return {
    ...frame(model.specials.map((s) => addedToken(vocab[s]!, s))),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: null,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: model.unkToken,
      continuing_subword_prefix: '##',
      max_input_chars_per_word: model.maxInputCharsPerWord,
      vocab,
    },
  };
}

export function unigramTokenizerJson(pieces: readonly UnigramPiece[]): object {
  const unk = pieces.findIndex((p) => p.kind === 'unknown');
  if (unk < 0) throw new Error('unigram tokenizer.json: the model has no unknown piece (kind "unknown")');
  const metaspace = { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true };
  const added = pieces.flatMap((p, id) =>
    p.kind === 'control' || p.kind === 'unknown' ? [addedToken(id, p.piece)] : [],
  );
  return {
    ...frame(added),
    // SentencePiece's default normalization (nmt_nfkc, as spm-normalize.ts applies it): control
    // characters removed, line breaks, tabs and other invisible spaces made spaces, NFKC, runs of spaces
    // made one, spaces at the ends dropped
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Replace', pattern: { Regex: '[\\x01-\\x08\\x0b\\x0e-\\x1f\\x7f\\x8f\\x9f]' }, content: '' },
        {
          type: 'Replace',
          // the characters themselves, not \x{...}: Oniguruma and JavaScript (tokenizers.js) both read them
          pattern: { Regex: '[\\t\\n\\f\\r\u1680\u200b\u200c\u200e\u200f\u2028\u2029\u2581\ufeff\ufffd]' },
          content: ' ',
        },
        { type: 'NFKC' },
        { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' },
        { type: 'Strip', strip_left: true, strip_right: true },
      ],
    },
    pre_tokenizer: metaspace,
    post_processor: null,
    decoder: metaspace,
    model: {
      type: 'Unigram',
      unk_id: unk,
      vocab: pieces.map((p) => [p.piece, p.score]),
      byte_fallback: pieces.some((p) => p.kind === 'byte'),
    },
  };
}

/** Writes `json` to `path` under a temporary name, then renames it into place. */
export function writeTokenizerJson(path: string, json: object): void {
  mkdirSync(dirname(resolve(path)), { recursive: true });
  writeFileAtomic(resolve(path), `${JSON.stringify(json, null, 2)}\n`);
}
