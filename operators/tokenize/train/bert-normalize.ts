// BERT's normalizer and pre-tokenizer as Hugging Face tokenizers' BertNormalizer and BertPreTokenizer
// define them: control characters dropped and whitespace made spaces (clean_text), spaces around CJK
// ideographs, accents stripped (NFD, then combining marks removed) and lower case; then words split at
// whitespace with every punctuation character (ASCII punctuation or Unicode P*) a word of its own.

export interface BertNormalizeOptions {
  lowercase: boolean;
  /** default: the value of lowercase, as in BertNormalizer */
  stripAccents?: boolean;
}

// tab, newline and carriage return are whitespace, not control characters; every other C* is dropped
const CONTROL = /[\0\uFFFD]|(?![\t\n\r])[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}]/gu;
const WHITESPACE = /\s/gu;
const CJK =
  /[\u{4E00}-\u{9FFF}\u{3400}-\u{4DBF}\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B920}-\u{2CEAF}\u{F900}-\u{FAFF}\u{2F800}-\u{2FA1F}]/gu;
const MARKS = /\p{Mn}/gu;

export function bertNormalize(text: string, opts: BertNormalizeOptions): string {
  let s = text.replace(CONTROL, '').replace(WHITESPACE, ' ').replace(CJK, ' $& ');
  if (opts.stripAccents ?? opts.lowercase) s = s.normalize('NFD').replace(MARKS, '');
  if (opts.lowercase) s = s.toLowerCase();
  return s;
}

// a word: a run of anything but whitespace and punctuation; or one punctuation character
const BERT_WORD = /[^\s\p{P}!-/:-@[-`{-~]+|[\p{P}!-/:-@[-`{-~]/gu;

/** Calls `emit` with each word of (normalized) text, as BertPreTokenizer splits it. */
export function bertWords(text: string, emit: (word: string) => void): void {
  for (const m of text.matchAll(BERT_WORD)) emit(m[0]);
}
