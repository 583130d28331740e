// Pre-tokenisation transforms: Unicode normalisation, whitespace clean-up and lower-casing, applied
// to a document before it is encoded. All off by default: a pipeline usually normalises once, in
// clean/normalize, and the ids then match tiktoken's on the same text.

export interface TextTransforms {
  /** Unicode normal form, or none */
  form: 'none' | 'NFC' | 'NFKC';
  /** CR LF and CR to LF; runs of spaces and tabs (any Unicode space) to one space; no spaces at line
   * edges; at most two newlines in a row; no whitespace at either end */
  whitespace: boolean;
  /** lower-case (locale-independent) */
  lowercase: boolean;
}

const SPACES = /[ \t\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]+/g;

/** The function applying `t`, or undefined when every transform is off (the text is used as is). */
export function textTransform(t: TextTransforms): ((s: string) => string) | undefined {
  const steps: Array<(s: string) => string> = [];
  if (t.form !== 'none') { const form = t.form; steps.push((s) => s.normalize(form)); }
  if (t.whitespace) steps.push((s) => s.replace(/\r\n?/g, '\n').replace(SPACES, ' ').replace(/ *\n */g, '\n').replace(/\n{3,}/g, '\n\n').trim());
  if (t.lowercase) steps.push((s) => s.toLowerCase());
  if (steps.length === 0) return undefined;
  return (s) => { for (const f of steps) s = f(s); return s; };
}
