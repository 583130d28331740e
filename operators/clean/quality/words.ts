// Words of a document as the quality rules count them: whitespace-separated tokens with leading and
// trailing punctuation and symbols removed ("end." is the 3-letter word "end"; a lone "-" or "•" is a
// symbol, not a word). One pass, no per-word regex, since every rule reads these.

const ASCII_PUNCT = new Uint8Array(128);
for (const c of '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~') ASCII_PUNCT[c.charCodeAt(0)] = 1;
const UNICODE_PUNCT = /[\p{P}\p{S}]/u;

function isPunct(code: number, s: string, i: number): boolean {
  if (code < 128) return ASCII_PUNCT[code] === 1;
  // an astral character (emoji...) is judged by its whole code point, from either half
  if (code >= 0xdc00 && code <= 0xdfff && i > 0) return UNICODE_PUNCT.test(String.fromCodePoint(s.codePointAt(i - 1)!));
  if (code >= 0xd800 && code <= 0xdbff) return UNICODE_PUNCT.test(String.fromCodePoint(s.codePointAt(i)!));
  return UNICODE_PUNCT.test(s[i]!);
}

const isSpace = (c: number) =>
  c === 32 ||
  (c >= 9 && c <= 13) ||
  c === 0xa0 ||
  c === 0x1680 ||
  (c >= 0x2000 && c <= 0x200a) ||
  c === 0x2028 ||
  c === 0x2029 ||
  c === 0x202f ||
  c === 0x205f ||
  c === 0x3000;

export interface Words {
  /** lower-cased words (tokens without edge punctuation); symbol-only tokens are not in it */
  readonly words: string[];
  /** sum of the words' lengths */
  readonly chars: number;
  /** whitespace-separated tokens, symbols included */
  readonly tokens: number;
}

export function wordsOf(text: string): Words {
  const words: string[] = [];
  let chars = 0,
    tokens = 0;
  const n = text.length;
  let i = 0;
  while (i < n) {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
    if (i >= n) break;
    let j = i;
    while (j < n && !isSpace(text.charCodeAt(j))) j++;
    tokens++;
    let a = i,
      b = j;
    while (a < b && isPunct(text.charCodeAt(a), text, a)) a++;
    while (b > a && isPunct(text.charCodeAt(b - 1), text, b - 1)) b--;
    if (b > a) {
      words.push(text.slice(a, b).toLowerCase());
      chars += b - a;
    }
    i = j;
  }
  return { words, chars, tokens };
}

/** True when `w` holds a letter of any script. */
export function hasLetter(w: string): boolean {
  for (let i = 0; i < w.length; i++) {
    const c = w.charCodeAt(i);
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) return true;
    if (c >= 128 && /\p{L}/u.test(w[i]!)) return true;
  }
  return false;
}

/** Non-empty lines, trimmed. */
export function linesOf(text: string): string[] {
  const out: string[] = [];
  for (const l of text.split('\n')) {
    const t = l.trim();
    if (t.length > 0) out.push(t);
  }
  return out;
}

/** Paragraphs: blocks separated by a blank line, trimmed, non-empty. */
export function paragraphsOf(text: string): string[] {
  const out: string[] = [];
  for (const p of text.split(/\n[ \t\r]*\n/)) {
    const t = p.trim();
    if (t.length > 0) out.push(t);
  }
  return out;
}
