// SentencePiece's default normalization (`nmt_nfkc`) and its whitespace handling, so that text seen by
// the Unigram trainer and encoder is what spm_train and spm_encode see. spm applies a compiled
// character map: NFKC, plus a few code points mapped to a space (tabs, line breaks, zero-width spaces,
// the ▁ symbol itself, BOM, U+FFFD) and ASCII control characters removed; FULLWIDTH TILDE is kept as is.
// Then leading and trailing spaces are dropped, runs of spaces collapse to one, a space is prefixed
// (the "dummy prefix", so a word is the same piece at the start of a line and after a space) and every
// space becomes ▁ (U+2581).

/** ▁ LOWER ONE EIGHTH BLOCK: SentencePiece's visible space. */
export const SPM_SPACE = '\u2581';

const TO_SPACE = /[\t\n\f\r\u1680\u200b\u200c\u200e\u200f\u2028\u2029\u2581\ufeff\ufffd]/g;
const REMOVED = /[\u0001-\u0008\u000b\u000e-\u001f\u007f\u008f\u009f]/g;

function nfkcKeepingFullwidthTilde(s: string): string {
  if (!s.includes('\uff5e')) return s.normalize('NFKC');
  return s
    .split('\uff5e')
    .map((part) => part.normalize('NFKC'))
    .join('\uff5e');
}

/** One line as SentencePiece normalizes it: '' when nothing but whitespace is left. */
export function spmNormalize(line: string): string {
  const mapped = nfkcKeepingFullwidthTilde(line.replace(REMOVED, '').replace(TO_SPACE, ' '));
  // NFKC can itself produce spaces (NO-BREAK SPACE, ideographic space, ...): collapse after it.
  const trimmed = mapped.replace(/ {2,}/g, ' ').replace(/^ | $/g, '');
  if (trimmed.length === 0) return '';
  return SPM_SPACE + trimmed.replaceAll(' ', SPM_SPACE);
}

/** The words of a normalized line, each starting with ▁ (spm's split_by_whitespace in training). */
export function spmWords(normalized: string): string[] {
  const words: string[] = [];
  let start = 0;
  for (let i = 1; i <= normalized.length; i++) {
    if (i === normalized.length || normalized[i] === SPM_SPACE) {
      if (i > start) words.push(normalized.slice(start, i));
      start = i;
    }
  }
  return words;
}
