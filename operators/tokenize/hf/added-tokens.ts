// Non-special added tokens (tokenizer.json "added_tokens" with "special": false): HF splits them out
// of the text before the model sees it, leftmost-longest, those with "normalized": false in the raw
// text and the others in the normalized text; "single_word" skips a match inside a word, "lstrip" and
// "rstrip" take the whitespace beside it into the token. Special added tokens are never matched in
// document text (tokenize.ts's policy). Word characters here are letters, digits and "_".
import { type Json, obj } from './json.ts';

interface Added {
  id: number;
  singleWord: boolean;
  lstrip: boolean;
  rstrip: boolean;
}

/** A piece of text (id -1) or an added token (its id). */
export interface Section {
  text: string;
  id: number;
}

export type SplitAdded = (text: string) => Section[];

const WORD = /[\p{L}\p{N}_]/u;
const SPACE = /\p{White_Space}/u;

/** Matchers for the raw and the normalized text, each undefined when it has no tokens. */
export function addedTokenSplitters(list: unknown[], where: string): { raw?: SplitAdded; normalized?: SplitAdded } {
  const raw = new Map<string, Added>(),
    norm = new Map<string, Added>();
  list.forEach((t, k) => {
    const a = obj(t, `${where}[${k}]`) as Json;
    if (a.special === true || typeof a.content !== 'string' || a.content === '' || typeof a.id !== 'number') return;
    const token = {
      id: a.id,
      singleWord: a.single_word === true,
      lstrip: a.lstrip === true,
      rstrip: a.rstrip === true,
    };
    (a.normalized === false ? raw : norm).set(a.content, token);
  });
  return { raw: raw.size ? splitter(raw) : undefined, normalized: norm.size ? splitter(norm) : undefined };
}

function splitter(tokens: Map<string, Added>): SplitAdded {
  // longest first: a regex alternation takes the first alternative that matches at the leftmost place
  const alts = [...tokens.keys()]
    .sort((a, b) => b.length - a.length)
    .map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const re = new RegExp(alts.join('|'), 'gu');
  return (text) => {
    const out: Section[] = [];
    let prev = 0;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const t = tokens.get(m[0])!;
      let a = m.index,
        b = a + m[0].length;
      if (t.singleWord && ((a > 0 && WORD.test(text[a - 1]!)) || (b < text.length && WORD.test(text[b]!)))) continue;
      if (t.lstrip) while (a > prev && SPACE.test(text[a - 1]!)) a--;
      if (t.rstrip) while (b < text.length && SPACE.test(text[b]!)) b++;
      if (a > prev) out.push({ text: text.slice(prev, a), id: -1 });
      out.push({ text: text.slice(a, b), id: t.id });
      prev = b;
      re.lastIndex = b;
    }
    if (prev < text.length) out.push({ text: text.slice(prev), id: -1 });
    return out;
  };
}
