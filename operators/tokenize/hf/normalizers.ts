// tokenizer.json normalizers as string -> string functions: the ones Llama/Mistral (Sequence of
// Prepend "▁" and Replace " " -> "▁"), BERT (BertNormalizer) and others use. Offsets are not kept:
// the tokenize operator needs ids only.
import { SpmNormalizer } from '../spm/normalizer.ts';
import { type Json, bool, list, obj, pattern, str, unsupported } from './json.ts';
import { CONTROL, WHITESPACE, isCjk, lowercase, stripMarks, stripNonspacing } from './unicode.ts';

export type Normalize = (s: string) => string;

const KNOWN =
  'Sequence, Prepend, Replace, NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, Strip, BertNormalizer, Precompiled';

export function normalizer(json: unknown, where: string): Normalize | undefined {
  if (json === null || json === undefined) return undefined;
  const o = obj(json, where);
  switch (o.type) {
    case 'Sequence': {
      const steps = list(o, 'normalizers', where).map((n, k) => normalizer(n, `${where}.normalizers[${k}]`));
      const fs = steps.filter((f): f is Normalize => f !== undefined);
      return (s) => fs.reduce((acc, f) => f(acc), s);
    }
    case 'Prepend': {
      const p = str(o, 'prepend', where);
      return (s) => (s.length > 0 ? p + s : s);
    }
    case 'Replace': {
      const re = pattern(o, where);
      const content = str(o, 'content', where);
      return (s) => s.replace(re, () => content);
    }
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD': {
      const form = o.type;
      return (s) => s.normalize(form);
    }
    case 'Lowercase':
      return lowercase;
    case 'StripAccents':
      return stripMarks;
    case 'Strip': {
      const left = bool(o, 'strip_left', true),
        right = bool(o, 'strip_right', true);
      return (s) => strip(s, left, right);
    }
    case 'BertNormalizer':
      return bert(o);
    case 'Precompiled': {
      const blob = Buffer.from(str(o, 'precompiled_charsmap', where), 'base64');
      // the charsmap alone: no whitespace handling (that is the pre-tokenizer's, Metaspace's)
      const spm = new SpmNormalizer(
        { charsmap: blob, addDummyPrefix: false, removeExtraWhitespaces: false, escapeWhitespaces: false },
        where,
      );
      return (s) => spm.normalize(s);
    }
    default:
      throw unsupported(`${where}.type`, o.type, KNOWN);
  }
}

function strip(s: string, left: boolean, right: boolean): string {
  const cps = [...s];
  let a = 0,
    b = cps.length;
  if (left) while (a < b && WHITESPACE.test(cps[a]!)) a++;
  if (right) while (b > a && WHITESPACE.test(cps[b - 1]!)) b--;
  return cps.slice(a, b).join('');
}

const PLAIN = /^[\x20-\x7e\t\n\r]*$/;

/** BertNormalizer: clean_text, handle_chinese_chars, strip_accents (default: as lowercase), lowercase. */
function bert(o: Json): Normalize {
  const clean = bool(o, 'clean_text', true);
  const chinese = bool(o, 'handle_chinese_chars', true);
  const lower = bool(o, 'lowercase', true);
  const accents = typeof o.strip_accents === 'boolean' ? o.strip_accents : lower;
  return (s) => {
    // printable ASCII with tabs and line breaks (most text): no controls, CJK, accents or Σ
    if (PLAIN.test(s)) {
      const t = clean ? s.replace(/[\t\n\r]/g, ' ') : s;
      return lower ? t.toLowerCase() : t;
    }
    let t = s;
    if (clean || chinese) {
      let out = '';
      for (const c of t) {
        const cp = c.codePointAt(0)!;
        if (clean) {
          if (c === '\t' || c === '\n' || c === '\r' || WHITESPACE.test(c)) {
            out += ' ';
            continue;
          }
          if (cp === 0 || cp === 0xfffd || CONTROL.test(c)) continue;
        }
        out += chinese && isCjk(cp) ? ` ${c} ` : c;
      }
      t = out;
    }
    if (accents) t = stripNonspacing(t.normalize('NFD'));
    if (lower) t = lowercase(t);
    return t;
  };
}
