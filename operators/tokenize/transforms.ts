// Pre-tokenisation transforms: Unicode normalisation, control characters, whitespace clean-up and
// lower-casing, applied to a document before it is encoded. All off by default: a pipeline usually
// normalises once, in clean/normalize or here, and the ids then match tiktoken's on the same text.

export interface TextTransforms {
  /** Unicode normal form, or none */
  form: 'none' | 'NFC' | 'NFKC';
  /** C0/C1 control characters other than tab and newline removed; CR LF, CR, U+2028/9 to LF (as
   * clean/normalize does) */
  controls?: boolean;
  /** CR LF and CR to LF; runs of spaces and tabs (any Unicode space) to one space; no spaces at line
   * edges; at most two newlines in a row; no whitespace at either end */
  whitespace: boolean;
  /** lower-case (locale-independent) */
  lowercase: boolean;
}

// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
const LINE_BREAKS = /\r\n?|[\u2028\u2029]/g;
// Only whitespace that changes is matched (a single ' ' stays): the same result as replacing every
// run, but ~20x faster on prose, where matching each single space rebuilds the string word by word.
const SPACES = /[ \t\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]{2,}|[\t\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/g;
// spaces at either edge of a line, matched only where there are some (a bare newline stays)
const LINE_EDGES = / +\n *|\n +/g;

/** What Unicode normalisation could change: every character below U+0300 is NFC-stable and none
 * composes with another (combining marks and Hangul jamo come later); below U+00A0 NFKC-stable too. */
const FORM_DIRTY = { NFC: /[^\u0000-\u02FF]/, NFKC: /[^\u0000-\u009F]/ } as const;

/** Whether the control and whitespace steps could change `s`; where they could not they leave it as
 * is. A character class and a few two-character sequences, each one native regex scan: as one regex
 * with the sequences beside the class, every space started a match attempt and the check cost more
 * than the clean-up (a JS loop over the characters was slower still). */
function cleanupCheck(t: TextTransforms): ((s: string) => boolean) | undefined {
  const chars = [
    t.controls ? '\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F\\u2028\\u2029' : '',
    t.whitespace ? '\\r\\t\\u00A0\\u1680\\u2000-\\u200A\\u202F\\u205F\\u3000' : '',
  ].join('');
  if (!chars) return undefined;
  const dirtyChar = new RegExp(`[${chars}]`);
  if (!t.whitespace) return (s) => dirtyChar.test(s);
  const sequence = /  | \n|\n |\n\n\n/;
  const space = /\s/; // tested on the first and last character only (as /\s$/ it tries every space)
  return (s) =>
    dirtyChar.test(s) || sequence.test(s) || (s.length > 0 && (space.test(s[0]!) || space.test(s[s.length - 1]!)));
}

/** The function applying `t`, or undefined when every transform is off (the text is used as is). */
export function textTransform(t: TextTransforms): ((s: string) => string) | undefined {
  const steps: Array<(s: string) => string> = [];
  if (t.controls) steps.push((s) => s.replace(LINE_BREAKS, '\n').replace(CONTROLS, ''));
  if (t.whitespace)
    steps.push((s) =>
      s
        .replace(/\r\n?/g, '\n')
        .replace(SPACES, ' ')
        .replace(LINE_EDGES, '\n')
        .replace(/\n{3,}/g, '\n\n')
        .trim(),
    );
  const lower = t.lowercase;
  const form = t.form === 'none' ? undefined : t.form;
  if (!form && steps.length === 0) return lower ? (s) => s.toLowerCase() : undefined;
  // most documents of a cleaned corpus need none of it: one scan per stage instead of a pass per step.
  // The stages are gated separately: a curly quote makes a document a candidate for normalisation
  // (cheap), not for the five regex passes of the clean-up (which cost 4x the normalisation on prose
  // where a third of the documents have one).
  const formDirty = form ? FORM_DIRTY[form] : undefined;
  const dirty = cleanupCheck(t);
  return (s) => {
    if (form && formDirty!.test(s)) s = s.normalize(form);
    if (dirty?.(s)) for (const f of steps) s = f(s);
    return lower ? s.toLowerCase() : s;
  };
}
