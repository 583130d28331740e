// Hugging Face's split behaviours (SplitDelimiterBehavior): how the pieces a pattern matches combine
// with the text between them. `parts` alternate text and matches in order; empty pieces are dropped.

export type Behavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';
export const BEHAVIORS: readonly Behavior[] = [
  'Removed',
  'Isolated',
  'MergedWithPrevious',
  'MergedWithNext',
  'Contiguous',
];

/** Splits s by the matches of `re` (global), combined by `behavior`; `invert`: the matches are the text. */
export function splitBy(s: string, re: RegExp, behavior: Behavior, invert = false): string[] {
  const parts: [string, boolean][] = [];
  let prev = 0;
  re.lastIndex = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    const a = m.index,
      b = a + m[0].length;
    if (b === a) {
      re.lastIndex++; // an empty match splits nothing
      continue;
    }
    if (a > prev) parts.push([s.slice(prev, a), invert]);
    parts.push([m[0], !invert]);
    prev = b;
  }
  if (prev < s.length) parts.push([s.slice(prev), invert]);
  return combine(parts, behavior);
}

/** Splits s into characters matching `test` and the rest, combined by `behavior`. */
export function splitChars(s: string, test: (c: string) => boolean, behavior: Behavior): string[] {
  const parts: [string, boolean][] = [];
  for (const c of s) parts.push([c, test(c)]);
  // runs of non-matching characters are one piece before combining
  const runs: [string, boolean][] = [];
  for (const [c, m] of parts) {
    const last = runs[runs.length - 1];
    if (last && !m && !last[1]) last[0] += c;
    else runs.push([c, m]);
  }
  return combine(runs, behavior);
}

function combine(parts: [string, boolean][], behavior: Behavior): string[] {
  const out: string[] = [];
  switch (behavior) {
    case 'Removed':
      for (const [t, m] of parts) if (!m) out.push(t);
      break;
    case 'Isolated':
      for (const [t] of parts) out.push(t);
      break;
    case 'Contiguous': {
      let prevMatch = false;
      for (const [t, m] of parts) {
        if (m && prevMatch && out.length > 0) out[out.length - 1] += t;
        else out.push(t);
        prevMatch = m;
      }
      break;
    }
    case 'MergedWithPrevious': {
      let prevMatch = false;
      for (const [t, m] of parts) {
        if (m && !prevMatch && out.length > 0) out[out.length - 1] += t;
        else out.push(t);
        prevMatch = m;
      }
      break;
    }
    case 'MergedWithNext': {
      // from the end: a match joins the piece after it unless that piece is a match too
      let nextMatch = false;
      for (let k = parts.length - 1; k >= 0; k--) {
        const [t, m] = parts[k]!;
        if (m && !nextMatch && out.length > 0) out[out.length - 1] = t + out[out.length - 1];
        else out.push(t);
        nextMatch = m;
      }
      out.reverse();
      break;
    }
  }
  return out.filter((t) => t.length > 0);
}
