// sacrebleu's default BLEU tokenizer '13a' (mteval-v13a.pl's normalisation, as sacrebleu/tokenizers/
// tokenizer_13a.py and tokenizer_re.py do it), plus the other tokenizers sacrebleu's published tests use.

import { codePoints, pySplit } from './python-text.ts';

// TokenizerRegexp's rules, applied in this order; each is a left-to-right, non-overlapping replace-all,
// like Python's re.sub. No `u` flag: the character ranges are ASCII and `[^0-9]` matching a lone
// surrogate half gives the same output as matching the whole code point.
const REGEXP_RULES: ReadonlyArray<readonly [RegExp, string]> = [
  // Punctuation and symbols of ASCII: { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * + : ; < = > ? @ /
  [/([{-~[-` -&(-+:-@/])/g, ' $1 '],
  // Period and comma unless preceded by a digit.
  [/([^0-9])([.,])/g, '$1 $2 '],
  // Period and comma unless followed by a digit.
  [/([.,])([^0-9])/g, ' $1 $2'],
  // Dash preceded by a digit.
  [/([0-9])(-)/g, '$1 $2 '],
];

/** sacrebleu's TokenizerRegexp: the language-dependent splits, then single spaces, no outer spaces. */
export function tokenizeRegexp(line: string): string {
  let out = line;
  for (const [re, repl] of REGEXP_RULES) out = out.replace(re, repl);
  return pySplit(out).join(' ');
}

/** sacrebleu's Tokenizer13a: drop `<skipped>`, join `-\n` hyphenation, unescape four entities, then the regexes. */
export function tokenize13a(line: string): string {
  let s = line.replaceAll('<skipped>', '').replaceAll('-\n', '').replaceAll('\n', ' ');
  if (s.includes('&')) {
    // This order: `&amp;quot;` becomes `&quot;`, not `"` (one pass each, as sacrebleu).
    s = s.replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
  }
  // Padding with spaces lets the period/comma rules see the line's first and last characters.
  return tokenizeRegexp(` ${s} `);
}

// TokenizerV14International (mteval-v14.pl's international tokenization) over Unicode categories.
const INTL_RULES: ReadonlyArray<readonly [RegExp, string]> = [
  // Punctuation preceded by a non-digit.
  [/(\P{N})(\p{P})/gu, '$1 $2 '],
  // Punctuation followed by a non-digit.
  [/(\p{P})(\P{N})/gu, ' $1 $2'],
  // Every symbol.
  [/(\p{S})/gu, ' $1 '],
];

/** sacrebleu's 'intl' tokenizer. */
export function tokenizeIntl(line: string): string {
  let out = line;
  for (const [re, repl] of INTL_RULES) out = out.replace(re, repl);
  return pySplit(out).join(' ');
}

/** sacrebleu's 'char' tokenizer: every code point (spaces too) separated by one space. */
export function tokenizeChar(line: string): string {
  return codePoints(line).join(' ');
}

export type BleuTokenizerName = '13a' | 'none' | 'intl' | 'char';

/** The tokenizer sacrebleu names `name`; its signature string is the name itself. */
export function bleuTokenizer(name: BleuTokenizerName): (line: string) => string {
  switch (name) {
    case '13a':
      return tokenize13a;
    case 'none':
      return (line) => line;
    case 'intl':
      return tokenizeIntl;
    case 'char':
      return tokenizeChar;
  }
}
