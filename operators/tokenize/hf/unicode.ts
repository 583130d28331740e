// Character classes of Hugging Face tokenizers (Rust): char::is_whitespace (the White_Space
// property), BERT's punctuation and control characters, CJK ideographs, and per-character
// lower-casing (Rust's char::to_lowercase: no final-sigma rule, unlike String.toLowerCase).

export const WHITESPACE = /\p{White_Space}/u;
// BERT: ASCII symbols count as punctuation, plus every Unicode P* character
export const PUNCT = /[\u0021-\u002F\u003A-\u0040\u005B-\u0060\u007B-\u007E\p{P}]/u;
// BERT's clean_text removes these (tab, newline and CR are whitespace instead)
export const CONTROL = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}]/u;

export function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** Lower-cases character by character (String.toLowerCase would make a word-final Σ "ς"). */
export function lowercase(s: string): string {
  if (!s.includes('\u03a3')) return s.toLowerCase();
  let out = '';
  for (const c of s) out += c.toLowerCase();
  return out;
}

/** Removes combining marks (General_Category Mark: Mn, Mc, Me), as StripAccents does (after NFD). */
export function stripMarks(s: string): string {
  return s.replace(/\p{M}/gu, '');
}

/** Removes non-spacing marks (Mn), as BertNormalizer's strip_accents does after NFD. */
export function stripNonspacing(s: string): string {
  return s.replace(/\p{Mn}/gu, '');
}
