// Female/male first-name pairs for the name-swap probe, chosen by a stated, deterministic rule so every run
// and every model sees the same pairs:
//   1. names from @stdlib's English female and male first-name lists, dropping every name that is on both
//      (Alex, Andy, Jody: as a proxy for gender they say nothing) and every name that is not letters only
//      (Ann-Marie) or is shorter than 3 or longer than 7 letters;
//   2. each list shuffled with the project's seeded PRNG (Rng(seed), female list first, then male);
//   3. walking the shuffled female list, each name is paired with the first unused male name OF THE SAME
//      LENGTH in shuffled order, until `count` pairs: equal length keeps the pair's surface form comparable
//      (a longer name is usually more tokens of context), though it cannot equalize frequency or tokens.
import { Rng } from '../../../src/runtime/rng.ts';
import { femaleFirstNames, maleFirstNames } from './datasets.ts';

export interface NamePair {
  female: string;
  male: string;
}

const usable = (n: string) => /^[A-Za-z]{3,7}$/.test(n);

/** `count` pairs of same-length female and male names (the rule above). */
export function namePairs(count: number, seed: number): NamePair[] {
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`namePairs: count must be a positive integer, got ${count}`);
  const female = femaleFirstNames();
  const male = maleFirstNames();
  const maleSet = new Set(male);
  const both = new Set(female.filter((n) => maleSet.has(n)));
  const rng = new Rng(seed);
  const f = rng.shuffle(female.filter((n) => usable(n) && !both.has(n)));
  const m = rng.shuffle(male.filter((n) => usable(n) && !both.has(n)));
  const used = new Set<number>();
  const pairs: NamePair[] = [];
  for (const name of f) {
    const j = m.findIndex((other, k) => !used.has(k) && other.length === name.length);
    if (j === -1) continue;
    used.add(j);
    pairs.push({ female: name, male: m[j] as string });
    if (pairs.length === count) return pairs;
  }
  throw new RangeError(`namePairs: only ${pairs.length} same-length pairs exist; ask for at most that many`);
}
