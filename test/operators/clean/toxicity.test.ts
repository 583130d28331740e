// The lexical toxicity filter on real text: SpamAssassin's spam (adult and pharmacy spam) against the
// State of the Union addresses, Chinese and German Debian manual pages for the substring and language
// rules. References are independent counts (a plain regex per listed word, a plain word count), never
// the operator's own figures; each config option has a case that fails when it is ignored.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Utf8, type RecordBatch } from 'apache-arrow';
import { from, lastValueFrom, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { makeContext } from '../../../src/core/context.ts';
import { WorkerPool } from '../../../src/runtime/worker-pool.ts';
import { toxicity, toxicityScorer, TOXICITY_LISTS } from '../../../operators/clean/toxicity.ts';
import { defaultRegistry } from '../../../src/graph/registry.ts';
import { batchFromColumns, schemaOf } from '../../../src/schema/index.ts';
import { emails, runOp, sotu, textBatch } from './real-data.ts';

const spam = [...emails('spam-1'), ...emails('spam-2', 700)];
const lists = createRequire(import.meta.url)('naughty-words') as Record<string, string[]>;
const addresses = sotu();
const dir = mkdtempSync(join(tmpdir(), 'flowlm-toxicity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** whole-word, case-insensitive occurrences of `w` (a plain regex: the reference) */
const occurrences = (text: string, w: string) =>
  (text.match(new RegExp(`(?<![\\p{L}\\p{M}\\p{N}])${w}(?![\\p{L}\\p{M}\\p{N}])`, 'giu')) ?? []).length;
const wordCount = (text: string) => (text.match(/[\p{L}\p{M}\p{N}]+/gu) ?? []).length;

/** text of Debian manual pages in one language (roff requests and escapes stripped) */
function manPages(lang: string, n: number): string[] {
  const d = `/usr/share/man/${lang}/man1`;
  return readdirSync(d)
    .filter((f) => f.endsWith('.gz'))
    .sort()
    .slice(0, n)
    .map((f) =>
      gunzipSync(readFileSync(join(d, f)))
        .toString('utf8')
        .split('\n')
        .filter((l) => !/^[.']/.test(l))
        .join('\n')
        .replace(/\\f[BIRP]|\\\(..|\\[-&e]/g, ' '),
    );
}

const withLang = (texts: string[], langs: Array<string | null>): RecordBatch =>
  batchFromColumns(schemaOf({ text: { type: new Utf8() }, lang: { type: new Utf8(), nullable: true } }), {
    text: texts,
    lang: langs,
  }) as unknown as RecordBatch;

describe('clean/toxicity on real text', () => {
  it('flags spam, not the State of the Union addresses, and finds each listed word a regex finds', async () => {
    const s = await runOp(toxicity, {}, [textBatch(spam.map((m) => m.text))]);
    const a = await runOp(toxicity, {}, [textBatch(addresses.map((m) => m.text))]);
    const rate = (rows: Array<Record<string, unknown>>, texts: string[]) =>
      rows.reduce((n, r) => n + (r.toxicity_matches as number), 0) / texts.reduce((n, t) => n + wordCount(t), 0);
    const spamRate = rate(
      s.rows,
      spam.map((m) => m.text),
    );
    const sotuRate = rate(
      a.rows,
      addresses.map((m) => m.text),
    );
    const spamFlagged = s.stats.counters!['would_drop.toxicity.rate']!;
    console.log(
      `toxicity: spam ${spam.length} docs rate ${spamRate.toExponential(2)} flagged ${spamFlagged}; ` +
        `sotu ${addresses.length} docs rate ${sotuRate.toExponential(2)} flagged ${a.stats.counters?.['would_drop.toxicity.rate'] ?? 0}`,
    );
    expect(spamRate).toBeGreaterThan(2 * sotuRate);
    expect(spamFlagged / spam.length).toBeGreaterThan(0.03);
    expect(a.stats.counters?.['would_drop.toxicity.rate'] ?? 0).toBe(0);
    expect(s.stats.dropped).toBe(0); // annotate keeps every row
    // every occurrence of these list words is a match; the categories name the English list
    const known = ['viagra', 'porn', 'penis', 'milf', 'xxx', 'horny'];
    let seen = 0;
    s.rows.forEach((r, i) => {
      const want = known.reduce((n, w) => n + occurrences(spam[i]!.text, w), 0);
      seen += want;
      expect(r.toxicity_matches as number).toBeGreaterThanOrEqual(want);
      expect(r.toxicity_categories).toBe((r.toxicity_matches as number) > 0 ? 'en' : null);
    });
    expect(seen).toBeGreaterThan(200);
    // the addresses' rate is matches over their words: "commercial intercourse" is the lexical false positive
    a.rows.forEach((r, i) => {
      const text = addresses[i]!.text;
      expect(r.toxicity_matches as number).toBeGreaterThanOrEqual(occurrences(text, 'intercourse'));
      expect(r.toxicity_rate as number).toBeCloseTo((r.toxicity_matches as number) / wordCount(text), 6);
    });
  });

  it('matches phrases across punctuation and spacing, whole words only', () => {
    const score = toxicityScorer({ minMatches: 1, maxRate: 0 });
    expect(score('Watch 2 girls 1 cup now').terms).toEqual(['2 girls 1 cup']);
    expect(score('the G-Spot, the g spot and the g–spot').terms).toEqual(['g spot', 'g spot', 'g spot']);
    expect(score('Scunthorpe, Essex, classic assets').matches).toBe(0);
    expect(score('ASS. Ass! ass').matches).toBe(3);
  });

  it('drop removes exactly the rows annotate flags, with the reason in the stats and the rejects file', async () => {
    const texts = spam.slice(0, 600).map((m) => m.text);
    const annotated = await runOp(toxicity, {}, [textBatch(texts)]);
    const flaggedRows = annotated.rows.filter((r) => {
      const m = r.toxicity_matches as number;
      return m >= 2 && (r.toxicity_rate as number) > 0.005;
    });
    expect(flaggedRows.length).toBeGreaterThan(10);
    const rejects = join(dir, 'rejects.jsonl');
    const dropped = await runOp(toxicity, { mode: 'drop', rejects }, [textBatch(texts)]);
    expect(dropped.stats.dropReasons).toEqual({ 'toxicity.rate': flaggedRows.length });
    expect(dropped.stats.counters!['toxicity.flagged.en']).toBe(flaggedRows.length);
    expect(new Set(dropped.rows.map((r) => r.n))).toEqual(
      new Set(annotated.rows.filter((r) => !flaggedRows.includes(r)).map((r) => r.n)),
    );
    const lines = readFileSync(rejects, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { reason: string; row: number });
    expect(lines.map((l) => l.row)).toEqual(flaggedRows.map((r) => Number(r.n)));
    expect(new Set(lines.map((l) => l.reason))).toEqual(new Set(['toxicity.rate']));
  });

  it('maxRate and minMatches decide what is flagged', async () => {
    const texts = spam.slice(0, 400).map((m) => m.text);
    const flagged = async (cfg: object) =>
      (await runOp(toxicity, { mode: 'drop', ...cfg }, [textBatch(texts)])).stats.dropReasons['toxicity.rate'] ?? 0;
    const withAny = (await runOp(toxicity, {}, [textBatch(texts)])).rows.filter(
      (r) => (r.toxicity_matches as number) > 0,
    );
    expect(await flagged({ maxRate: 0, minMatches: 1 })).toBe(withAny.length);
    expect(await flagged({ maxRate: 0, minMatches: 3 })).toBe(
      withAny.filter((r) => (r.toxicity_matches as number) >= 3).length,
    );
    expect(await flagged({ maxRate: 0.02, minMatches: 1 })).toBe(
      withAny.filter((r) => (r.toxicity_rate as number) > 0.02).length,
    );
    expect(await flagged({ maxRate: 1 })).toBe(0);
  });

  it('languages, byLang and fallback choose the lists', async () => {
    const text = 'Du Arschloch! You asshole.';
    const run = async (cfg: object, lang: string | null) =>
      (await runOp(toxicity, { minMatches: 1, ...cfg }, [withLang([text], [lang])])).rows[0]!;
    expect((await run({}, null)).toxicity_categories).toBe('en'); // unknown language: English
    expect((await run({}, 'de')).toxicity_categories).toBe('de'); // its own list
    expect((await run({ byLang: false }, 'de')).toxicity_categories).toBe('en');
    // all lists: German, English, and Norwegian's "du" entry
    expect(String((await run({ fallback: [] }, null)).toxicity_categories).split(',')).toEqual(
      expect.arrayContaining(['de', 'en']),
    );
    expect((await run({ languages: ['de'] }, null)).toxicity_categories).toBe('de'); // fallback en not among them
    expect((await run({}, 'xx')).toxicity_categories).toBe('en'); // a language without a list
    // all lists on English prose: other languages' entries that are English words (Turkish "am")
    const a = addresses.map((m) => m.text);
    const en = await runOp(toxicity, {}, [textBatch(a)]);
    const all = await runOp(toxicity, { fallback: [] }, [textBatch(a)]);
    const total = (r: typeof en) => r.rows.reduce((n, x) => n + (x.toxicity_matches as number), 0);
    expect(total(all)).toBeGreaterThan(2 * total(en));
    expect(all.rows.some((r) => String(r.toxicity_categories).split(',').includes('tr'))).toBe(true);
    expect(TOXICITY_LISTS).toContain('fr-CA');
  });

  it('matches CJK entries as substrings, single characters only when minSubstringChars allows', async () => {
    // Japanese manual pages are full of 性 (属性 "attribute", 性能 "performance"): a single-character entry
    const ja = manPages('ja', 120);
    const singles = (['ja', 'zh'] as const).flatMap((l) => lists[l]!.filter((w) => [...w].length === 1));
    const single = (t: string) => [...t].filter((c) => singles.includes(c)).length;
    const want = ja.reduce((n, t) => n + single(t), 0);
    expect(want).toBeGreaterThan(20);
    const cfg = { languages: ['ja', 'zh'], fallback: [] };
    const strict = await runOp(toxicity, cfg, [textBatch(ja)]);
    const loose = await runOp(toxicity, { ...cfg, minSubstringChars: 1 }, [textBatch(ja)]);
    const total = (r: typeof strict) => r.rows.reduce((n, x) => n + (x.toxicity_matches as number), 0);
    console.log(
      `toxicity: ${ja.length} Japanese man pages: ${total(strict)} matches, ${total(loose)} with single characters`,
    );
    // (the strict matches are themselves false positives: 挿入 "insert", グロ inside グローバル "global")
    expect(total(loose) - total(strict)).toBeGreaterThanOrEqual(0.9 * want);
    expect(toxicityScorer({ languages: ['zh'] })('这是肛交的例子').terms).toEqual(['肛交']);
    // words: letter runs outside Han/kana/Thai, plus one per Han/kana/Thai character (regex reference)
    const noSpace = '\\p{sc=Han}\\p{sc=Hiragana}\\p{sc=Katakana}\\p{sc=Thai}';
    const runs = new RegExp(`[[\\p{L}\\p{M}\\p{N}]--[${noSpace}]]+`, 'gv');
    const chars = new RegExp(`[${noSpace}]`, 'gv');
    const score = toxicityScorer(cfg);
    for (const t of [...ja.slice(0, 30), 'Ǆemal 𝐀𝐁𝐂 𠀋𠀌 naïve 🖕 x'])
      expect(score(t).words).toBe((t.toLowerCase().match(runs) ?? []).length + (t.match(chars) ?? []).length);
    expect(score('a 🖕 b').terms).toEqual([]); // the pictograph is on the English list only
    expect(toxicityScorer()('a 🖕 b').terms).toEqual(['🖕']);
    // German manual pages against the German list: hardly a match (no cross-language noise)
    const de = manPages('de', 40);
    const g = await runOp(toxicity, {}, [
      withLang(
        de,
        de.map(() => 'de'),
      ),
    ]);
    expect(total(g)).toBeLessThan(3);
  });

  it('keeps null texts with no matches, and is found by its id', async () => {
    const b = batchFromColumns(schemaOf({ text: { type: new Utf8(), nullable: true } }), {
      text: [null, 'fuck this'],
    }) as unknown as RecordBatch;
    const { rows } = await runOp(toxicity, { mode: 'drop', minMatches: 1 }, [b]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.text).toBeNull();
    expect(await defaultRegistry.get('clean/toxicity')).toBe(toxicity);
  });

  it('runs on the worker pool with the same rows and stats as inline', async () => {
    const batches = [
      textBatch(spam.slice(0, 150).map((m) => m.text)),
      textBatch(spam.slice(150, 300).map((m) => m.text)),
    ];
    const cfg = { mode: 'drop', minMatches: 1 };
    const inline = await runOp(toxicity, cfg, batches);
    const pool = new WorkerPool({ size: 2 });
    try {
      const ctx = makeContext('workers');
      const out = await lastValueFrom(from(batches).pipe(pool.map(toxicity, cfg, { ctx }), toArray()));
      expect(out.flatMap((b) => b.toArray().map((r) => r.toJSON()))).toEqual(inline.rows);
      expect(ctx.stats.snapshot().dropReasons).toEqual(inline.stats.dropReasons);
      expect(ctx.stats.snapshot().counters).toEqual(inline.stats.counters);
      expect(inline.stats.dropped).toBeGreaterThan(5);
    } finally {
      await pool.close();
    }
  });
});
