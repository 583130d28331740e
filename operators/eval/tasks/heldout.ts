// The held-out split of the embedded corpus, stated in one place. The evaluation tasks read only these
// documents; training drops them (decontamination, or a reader that filters with isHeldout).
//
// The rule: every 20th of each collection, by its own numbering.
//   - Moby-Dick: the chapters whose number is a multiple of 20 (20, 40, ..., 120: 6 of 135 chapters,
//     ~44 KB of ~1.19 MB).
//   - State of the Union: the addresses delivered in a year that is a multiple of 20 (1800, 1820, ...,
//     2020: 12 of 233 addresses, ~0.50 MB of ~10.8 MB).
// Together ~4.6% of the bytes, so training keeps most of the data. The rule reads only file names, so
// it is the same on every machine and for every version of the packages that keeps their file names.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { stableId } from '../../../src/runtime/files.ts';
import { mobyDickChapters, sotuTexts } from '../../ingest/embedded-corpus.ts';

/** One held-out document: a stable id, where it is, and its whole text. */
export interface HeldoutDoc {
  id: string;
  path: string;
  text: string;
}

/** The held-out stride: a chapter or year that is a multiple of this is held out. */
export const HELDOUT_EVERY = 20;

const MOBY_FILE = /^chapter_(\d+)\.txt$/;
const SOTU_FILE = /^(\d{4})_[a-z0-9_]+\.txt$/;

/** The Moby-Dick chapter number or State of the Union year a file name carries, when it has one. */
function heldoutNumber(path: string): number | undefined {
  const name = basename(path);
  // the dataset's package name in the path keeps an unrelated chapter_20.txt elsewhere out
  if (path.includes('datasets-moby-dick')) {
    const m = MOBY_FILE.exec(name);
    return m ? Number(m[1]) : undefined;
  }
  if (path.includes('datasets-sotu')) {
    const m = SOTU_FILE.exec(name);
    return m ? Number(m[1]) : undefined;
  }
  return undefined;
}

/** True when `path` is a held-out document of the embedded corpus (a Moby-Dick chapter or State of the
 * Union address under the rule above); any other path is training data as far as this split knows. */
export function isHeldout(path: string): boolean {
  const n = heldoutNumber(path);
  return n !== undefined && n % HELDOUT_EVERY === 0;
}

function listHeldout(glob: string, pattern: RegExp, idPrefix: string): HeldoutDoc[] {
  const dir = dirname(glob);
  const names = readdirSync(dir).filter((f) => pattern.test(f));
  if (names.length === 0) throw new Error(`held-out split: no ${pattern} files in ${dir}; is the package installed?`);
  return names
    .map((name) => ({ name, n: Number(pattern.exec(name)?.[1]) }))
    .filter((f) => f.n % HELDOUT_EVERY === 0)
    .sort((a, b) => a.n - b.n || (a.name < b.name ? -1 : 1))
    .map(({ name }) => {
      const path = join(dir, name);
      return { id: `${idPrefix}/${name.replace(/\.txt$/, '')}`, path, text: readFileSync(path, 'utf8') };
    });
}

let moby: readonly HeldoutDoc[] | undefined;
let sotu: readonly HeldoutDoc[] | undefined;

/** The held-out Moby-Dick chapters in chapter order (ids `moby-dick/chapter_N`). */
export function heldoutMobyDick(): readonly HeldoutDoc[] {
  moby ??= Object.freeze(listHeldout(mobyDickChapters(), MOBY_FILE, 'moby-dick'));
  return moby;
}

/** The held-out State of the Union addresses in year order (ids `sotu/YEAR_president_party`). */
export function heldoutSotu(): readonly HeldoutDoc[] {
  sotu ??= Object.freeze(listHeldout(sotuTexts(), SOTU_FILE, 'sotu'));
  return sotu;
}

/** Every held-out document: Moby-Dick first, then the addresses. */
export function heldoutDocs(): readonly HeldoutDoc[] {
  return [...heldoutMobyDick(), ...heldoutSotu()];
}

/** Passages cut from every paragraph of the held-out documents by `cut(idPrefix, paragraph)` (Moby-Dick
 * chapter headings left out), in a fixed pseudo-random order (a hash of `task` and the passage id) so any
 * prefix mixes both sources; the first `max`. */
export function heldoutPassages<P extends { id: string }>(
  task: string,
  cut: (idPrefix: string, paragraph: string) => P[],
  max: number,
): (P & { source: string })[] {
  return heldoutDocs()
    .flatMap((d) =>
      d.text
        .replace(/^CHAPTER[^\n]*\n/, '')
        .split(/\n\s*\n/)
        .flatMap((para, p) => cut(`${d.id}#${p}`, para).map((x) => ({ ...x, source: d.id }))),
    )
    .map((d) => ({ d, key: stableId(`${task}:${d.id}`) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .slice(0, max)
    .map(({ d }) => d);
}
