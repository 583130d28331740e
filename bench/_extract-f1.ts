// Bag-of-words token F1 between two texts: tokens are lower-cased runs of letters and digits
// (\p{L}\p{N}), counted with multiplicity; precision and recall of `candidate` against `reference`.
// Used to compare the fast extractor's text with the Readability path's on the same pages.

const TOKEN = /[\p{L}\p{N}]+/gu;

/** Token counts of `text`. */
export function tokenBag(text: string): Map<string, number> {
  const bag = new Map<string, number>();
  for (const m of text.toLowerCase().matchAll(TOKEN)) bag.set(m[0], (bag.get(m[0]) ?? 0) + 1);
  return bag;
}

/** F1 of the token bags; 1 when both texts have no tokens, 0 when only one has none. */
export function tokenF1(candidate: string, reference: string): number {
  const c = tokenBag(candidate);
  const r = tokenBag(reference);
  let nc = 0;
  let nr = 0;
  let common = 0;
  for (const v of c.values()) nc += v;
  for (const [t, v] of r) {
    nr += v;
    common += Math.min(v, c.get(t) ?? 0);
  }
  if (nc === 0 && nr === 0) return 1;
  if (common === 0) return 0;
  const p = common / nc;
  const q = common / nr;
  return (2 * p * q) / (p + q);
}
