// Language labels of the fast engine against franc's on a multilingual set: Debian's translated manual
// pages (/usr/share/man/<lang>/man*/*.gz from manpages-de, manpages-fr, manpages-ja, ...), gunzipped,
// turned into plain text (operators/clean/language/roff-text.ts), kept when over 200 characters. Both
// engines label every document through the operator's identifyLanguage (its defaults: Scots ignored,
// the first 2048 characters after trimming); agreement is the share of equal labels, and each engine's
// MB/s (UTF-8 bytes of the documents over its labelling time, single thread, median of rounds that
// alternate the engines) comes from the same run.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { identifyLanguage, type IdentifyOptions } from '../operators/clean/language.ts';
import { roffToText } from '../operators/clean/language/roff-text.ts';

export const MAN_ROOT = '/usr/share/man';

export interface AgreementOptions {
  /** directory of translated manual pages (default /usr/share/man) */
  root?: string;
  /** language directories to read (default: every one but man1..man9, the English pages) */
  langs?: string[];
  /** at most this many pages per language, the first in path order (default: all) */
  maxPerLang?: number;
  /** documents shorter than this many characters are left out (default 200) */
  minChars?: number;
  /** timing rounds per engine (default 3) */
  rounds?: number;
  /** documents already read by manpageDocs (the options above that choose pages are then unused) */
  docs?: ManDoc[];
}

export interface ManDoc {
  /** the language directory, like 'de' or 'pt_BR' */
  dir: string;
  path: string;
  text: string;
}

export interface LangAgreement {
  docs: number;
  agree: number;
  agreement: number;
  /** share of documents franc labels with the directory's language (ISO 639-1 from its name) */
  franc_matches_dir: number;
  /** the disagreements' labels, 'franc>fast': count */
  disagreements: Record<string, number>;
}

export interface Agreement {
  docs: number;
  agree: number;
  agreement: number;
  /** documents whose lang_score is identical too */
  same_score: number;
  mb: number;
  fast_mb_per_s: number;
  franc_mb_per_s: number;
  /** per CPU second of this thread's process (steadier than wall time on a busy machine) */
  fast_mb_per_cpu_s: number;
  franc_mb_per_cpu_s: number;
  by_lang: Record<string, LangAgreement>;
}

/** The documents: [directory language, plain text] of each page over minChars characters. */
export function manpageDocs(opts: AgreementOptions = {}): ManDoc[] {
  const root = opts.root ?? MAN_ROOT;
  if (!existsSync(root)) throw new Error(`language agreement: ${root} is missing; install manpages-de, manpages-fr...`);
  const langs = opts.langs ?? readdirSync(root).filter((d) => !/^man\d/.test(d));
  const docs: ManDoc[] = [];
  for (const dir of [...langs].sort()) {
    const base = join(root, dir);
    if (!existsSync(base)) continue;
    const files = readdirSync(base)
      .filter((s) => /^man\d/.test(s))
      .sort()
      .flatMap((s) =>
        readdirSync(join(base, s))
          .filter((f) => f.endsWith('.gz'))
          .sort()
          .map((f) => join(base, s, f)),
      );
    let kept = 0;
    for (const path of files) {
      if (kept >= (opts.maxPerLang ?? Infinity)) break;
      const text = roffToText(gunzipSync(readFileSync(path)).toString('utf8'));
      if (text.length <= (opts.minChars ?? 200)) continue;
      docs.push({ dir, path, text });
      kept++;
    }
  }
  return docs;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

export async function languageAgreement(opts: AgreementOptions = {}): Promise<Agreement> {
  const docs = opts.docs ?? manpageDocs(opts);
  if (docs.length === 0) throw new Error('language agreement: no manual page over the length limit was found');
  const bytes = docs.reduce((a, d) => a + Buffer.byteLength(d.text), 0);
  const label = (engine: IdentifyOptions['engine']) => docs.map((d) => identifyLanguage(d.text, { engine }));
  const ms = { fast: [] as number[], franc: [] as number[] },
    cpuMs = { fast: [] as number[], franc: [] as number[] };
  const time = (engine: 'fast' | 'franc') => {
    const t0 = performance.now(),
      c0 = process.cpuUsage();
    label(engine);
    const c = process.cpuUsage(c0);
    ms[engine].push(performance.now() - t0);
    cpuMs[engine].push((c.user + c.system) / 1000);
  };
  const fast = label('fast'),
    franc = label('franc');
  for (let r = 0; r < (opts.rounds ?? 3); r++) {
    // alternate which engine runs first so neither always meets a warmer or cooler machine
    if (r % 2) time('fast'), time('franc');
    else time('franc'), time('fast');
  }
  const byLang: Record<string, LangAgreement> = {};
  let agree = 0,
    sameScore = 0;
  docs.forEach((d, i) => {
    const a = franc[i]!,
      b = fast[i]!;
    const e = (byLang[d.dir] ??= { docs: 0, agree: 0, agreement: 0, franc_matches_dir: 0, disagreements: {} });
    e.docs++;
    if (a.lang === d.dir.split('_')[0]) e.franc_matches_dir++;
    if (a.lang === b.lang) {
      e.agree++;
      agree++;
    } else e.disagreements[`${a.lang}>${b.lang}`] = (e.disagreements[`${a.lang}>${b.lang}`] ?? 0) + 1;
    if (a.score === b.score) sameScore++;
  });
  for (const e of Object.values(byLang)) {
    e.agreement = round4(e.agree / e.docs);
    e.franc_matches_dir = round4(e.franc_matches_dir / e.docs);
  }
  const mb = bytes / 1e6;
  return {
    docs: docs.length,
    agree,
    agreement: round4(agree / docs.length),
    same_score: sameScore,
    mb: Math.round(mb * 100) / 100,
    fast_mb_per_s: Math.round((mb / median(ms.fast)) * 1e5) / 100,
    franc_mb_per_s: Math.round((mb / median(ms.franc)) * 1e5) / 100,
    fast_mb_per_cpu_s: Math.round((mb / median(cpuMs.fast)) * 1e5) / 100,
    franc_mb_per_cpu_s: Math.round((mb / median(cpuMs.franc)) * 1e5) / 100,
    by_lang: byLang,
  };
}
