// tokenizer.json pre-tokenizers: each splits a piece of text into pieces (a Sequence applies its
// steps to every piece in turn). ByteLevel also maps each piece's UTF-8 bytes to GPT-2's byte
// alphabet; Metaspace replaces spaces by "▁" and splits before it.
import { byteLevel } from './byte-level.ts';
import { bool, list, obj, pattern, str, unsupported } from './json.ts';
import { BEHAVIORS, type Behavior, splitBy, splitChars } from './split.ts';
import { PUNCT, WHITESPACE } from './unicode.ts';

/** Splits one piece; `first`: it starts the text (Metaspace's prepend_scheme "first"). */
export type PreTokenize = (piece: string, first: boolean) => string[];

const KNOWN =
  'Sequence, ByteLevel, Metaspace, BertPreTokenizer, Whitespace, WhitespaceSplit, Split, Digits, Punctuation';
// GPT-2's pattern (ByteLevel's use_regex), with V8's \p classes as tiktoken's ports use them
export const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
// Rust regex \w (Unicode): alphabetic, marks, decimal digits, connector punctuation, joiners
const WORD = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}';
const WHITESPACE_RE = new RegExp(`[${WORD}]+|[^${WORD}\\p{White_Space}]+`, 'gu');
const SPACES = /\p{White_Space}+/gu;
const BERT_PUNCT = '\\p{P}\\u0021-\\u002F\\u003A-\\u0040\\u005B-\\u0060\\u007B-\\u007E';
const BERT = new RegExp(`[^\\p{White_Space}${BERT_PUNCT}]+|[${BERT_PUNCT}]`, 'gu');

export function preTokenizer(json: unknown, where: string): PreTokenize | undefined {
  if (json === null || json === undefined) return undefined;
  const o = obj(json, where);
  switch (o.type) {
    case 'Sequence': {
      const steps = list(o, 'pretokenizers', where).map((p, k) => preTokenizer(p, `${where}.pretokenizers[${k}]`));
      const fs = steps.filter((f): f is PreTokenize => f !== undefined);
      return (piece, first) => {
        let pieces = [piece];
        // a piece is "first" while it starts where the text does (Metaspace's prepend_scheme "first")
        let head = first;
        for (const f of fs) {
          const start = pieces[0] ?? '';
          pieces = pieces.flatMap((p, k) => f(p, head && k === 0));
          head = head && pieces.length > 0 && start.startsWith(pieces[0]!);
        }
        return pieces;
      };
    }
    case 'ByteLevel': {
      const prefix = bool(o, 'add_prefix_space', true);
      const regex = bool(o, 'use_regex', true);
      return (piece) => {
        const p = prefix && !piece.startsWith(' ') ? ` ${piece}` : piece;
        return (regex ? splitBy(p, GPT2_PATTERN, 'Isolated') : [p]).map(byteLevel);
      };
    }
    case 'Metaspace': {
      const rep = str(o, 'replacement', where, '\u2581');
      // older files: add_prefix_space true is prepend_scheme "always"
      const scheme =
        typeof o.prepend_scheme === 'string' ? o.prepend_scheme : o.add_prefix_space === false ? 'never' : 'always';
      if (scheme !== 'always' && scheme !== 'first' && scheme !== 'never')
        throw unsupported(`${where}.prepend_scheme`, scheme, 'always, first, never');
      const split = bool(o, 'split', true);
      const reps = new RegExp(rep.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gu');
      return (piece, first) => {
        let p = piece.replaceAll(' ', rep);
        if (!p.startsWith(rep) && (scheme === 'always' || (scheme === 'first' && first))) p = rep + p;
        return split ? splitBy(p, reps, 'MergedWithNext') : [p];
      };
    }
    case 'BertPreTokenizer':
      // whitespace removed, each punctuation character a piece of its own: one regex pass
      return (piece) => piece.match(BERT) ?? [];
    case 'Whitespace':
      return (piece) => splitBy(piece, WHITESPACE_RE, 'Removed', true);
    case 'WhitespaceSplit':
      return (piece) => splitBy(piece, SPACES, 'Removed');
    case 'Split': {
      const re = pattern(o, where);
      const behavior = behaviorOf(o.behavior, where);
      const invert = bool(o, 'invert', false);
      return (piece) => splitBy(piece, re, behavior, invert);
    }
    case 'Digits': {
      const each = bool(o, 'individual_digits', false);
      const digit = /\p{N}/u;
      return (piece) => splitChars(piece, (c) => digit.test(c), each ? 'Isolated' : 'Contiguous');
    }
    case 'Punctuation': {
      const behavior = behaviorOf(o.behavior ?? 'Isolated', where);
      return (piece) => splitChars(piece, (c) => PUNCT.test(c), behavior);
    }
    default:
      throw unsupported(`${where}.type`, o.type, KNOWN);
  }
}

function behaviorOf(v: unknown, where: string): Behavior {
  if (typeof v === 'string' && (BEHAVIORS as readonly string[]).includes(v)) return v as Behavior;
  throw unsupported(`${where}.behavior`, v, BEHAVIORS.join(', '));
}

export { WHITESPACE };
