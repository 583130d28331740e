// Choosing bands x rows for LSH. A pair with Jaccard s becomes a candidate with probability
// 1 - (1 - s^rows)^bands; the choice minimises the weighted areas of false positives (s < threshold)
// and false negatives (s >= threshold) under that curve, as datasketch does.

/** Probability that a pair of Jaccard similarity `s` shares at least one band. */
export const candidateProbability = (s: number, bands: number, rows: number): number => 1 - (1 - s ** rows) ** bands;

function area(f: (s: number) => number, a: number, b: number, steps = 100): number {
  const h = (b - a) / steps;
  let sum = 0;
  for (let i = 0; i < steps; i++) sum += f(a + (i + 0.5) * h);
  return sum * h;
}

export interface BandChoice {
  bands: number;
  rows: number;
  falsePositive: number;
  falseNegative: number;
}

/** The bands x rows (bands * rows <= numPerm) with the least weighted error around `threshold`. */
export function chooseBands(threshold: number, numPerm: number, fnWeight = 0.5): BandChoice {
  if (!(threshold > 0 && threshold < 1)) throw new Error(`chooseBands: threshold must be in (0, 1), got ${threshold}`);
  let best: BandChoice | undefined;
  let bestErr = Infinity;
  for (let bands = 1; bands <= numPerm; bands++) {
    for (let rows = 1; bands * rows <= numPerm; rows++) {
      const fp = area((s) => candidateProbability(s, bands, rows), 0, threshold);
      const fn = area((s) => 1 - candidateProbability(s, bands, rows), threshold, 1);
      const err = (1 - fnWeight) * fp + fnWeight * fn;
      if (err < bestErr) {
        bestErr = err;
        best = { bands, rows, falsePositive: fp, falseNegative: fn };
      }
    }
  }
  return best!;
}
