// Python string semantics that sacrebleu's results depend on, so our metrics match it byte for byte:
// str.split() / str.rstrip() whitespace (not the same set as JS \s), indexing by code point (not UTF-16
// unit), and f'{x:.Nf}' rounding (exact ties go to even; JS toFixed rounds them away from zero).

/** Python's str.isspace() characters: JS \s lacks U+001C..U+001F and U+0085, and adds U+FEFF. */
const PY_WHITESPACE =
  '\\t\\n\\v\\f\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_SPLIT = new RegExp(`[${PY_WHITESPACE}]+`);
const PY_TRAILING = new RegExp(`[${PY_WHITESPACE}]+$`);

/** Python's `s.split()`: runs of whitespace separate, no empty strings. */
export function pySplit(s: string): string[] {
  return s.split(PY_SPLIT).filter((w) => w.length > 0);
}

/** Python's `s.rstrip()`. */
export function pyRstrip(s: string): string {
  return s.replace(PY_TRAILING, '');
}

/** The string as Python sees it: one element per code point. */
export function codePoints(s: string): string[] {
  return Array.from(s);
}

/** Python's `f'{x:.{digits}f}'`. */
export function pyFixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const rounded = x.toFixed(digits);
  // The exact decimal expansion of x: an exact tie is a 5 followed only by zeros.
  const exact = x.toFixed(Math.min(100, digits + 60));
  const point = exact.indexOf('.');
  const tail = exact.slice(point + 1 + digits);
  if (!/^50*$/.test(tail)) return rounded;
  const truncated = exact.slice(0, digits === 0 ? point : point + 1 + digits);
  const lastRounded = Number(rounded.at(-1));
  return lastRounded % 2 === 0 ? rounded : truncated;
}
