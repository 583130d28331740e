// Gopher repetition rules on real documents. The operator keys n-grams by hashes of word ids; the
// oracle here builds every n-gram as a string, so agreement on hundreds of real documents checks the
// hashing, the char accounting and the thresholds at once.
import { describe, expect, it } from 'vitest';
import { QUALITY_RULES, qualityAssessor } from '../../../operators/clean/quality.ts';
import { oracleLines, oracleWords, qualityPool } from './quality-pool.ts';
import { mobyDick, sotu } from './real-data.ts';

function dupFractions(items: string[]): [number, number] {
  const seen = new Set<string>();
  let dup = 0,
    dupChars = 0,
    chars = 0;
  for (const s of items) {
    chars += s.length;
    if (seen.has(s)) {
      dup++;
      dupChars += s.length;
    } else seen.add(s);
  }
  return [items.length ? dup / items.length : 0, chars ? dupChars / chars : 0];
}

/** String n-grams: [top n-gram char fraction, duplicated n-gram char fraction]. */
function ngramOracle(words: string[], n: number): [number, number] {
  const total = words.reduce((a, w) => a + w.length, 0);
  if (total === 0 || words.length < n) return [0, 0];
  const grams = Array.from({ length: words.length - n + 1 }, (_, i) => words.slice(i, i + n).join(' '));
  const counts = new Map<string, number>();
  for (const g of grams) counts.set(g, (counts.get(g) ?? 0) + 1);
  let best = 1,
    bestGram = '';
  for (const g of grams)
    if (counts.get(g)! > best) {
      best = counts.get(g)!;
      bestGram = g;
    }
  const top = bestGram ? Math.min(1, (best * bestGram.replace(/ /g, '').length) / total) : 0;
  const covered = new Uint8Array(words.length);
  grams.forEach((g, i) => {
    if (counts.get(g)! > 1) covered.fill(1, i, i + n);
  });
  const dup = words.reduce((a, w, i) => a + (covered[i] ? w.length : 0), 0) / total;
  return [top, dup];
}

function oracleSignals(text: string): Record<string, number> {
  const [dl, dlc] = dupFractions(oracleLines(text));
  const [dp, dpc] = dupFractions(
    text
      .split(/\n[ \t\r]*\n/)
      .map((p) => p.trim())
      .filter(Boolean),
  );
  const s: Record<string, number> = {
    dup_lines: dl,
    dup_paragraphs: dp,
    dup_line_chars: dlc,
    dup_paragraph_chars: dpc,
  };
  const words = oracleWords(text);
  for (let n = 2; n <= 10; n++) {
    const [top, dup] = ngramOracle(words, n);
    if (n <= 4) s[`top_${n}gram`] = top;
    else s[`dup_${n}gram`] = dup;
  }
  return s;
}

describe('Gopher repetition rules on real documents', () => {
  const pool = qualityPool();

  it('signals equal a string-based computation on every fifth document of the pool (~300)', () => {
    const assess = qualityAssessor({});
    for (const d of pool.filter((_, i) => i % 5 === 0)) {
      const got = assess(d.text, true).signals;
      for (const [name, want] of Object.entries(oracleSignals(d.text)))
        expect(got[name], `${d.src} ${name}`).toBeCloseTo(want, 9);
    }
  });

  const thresholds: Record<string, number> = {
    dup_lines: 0.3,
    dup_paragraphs: 0.3,
    dup_line_chars: 0.2,
    dup_paragraph_chars: 0.2,
    top_2gram: 0.2,
    top_3gram: 0.18,
    top_4gram: 0.16,
    dup_5gram: 0.15,
    dup_6gram: 0.14,
    dup_7gram: 0.13,
    dup_8gram: 0.12,
    dup_9gram: 0.11,
    dup_10gram: 0.1,
  };
  it('each rule drops the documents past its published threshold, and real examples exist both ways', () => {
    const signals = pool.filter((_, i) => i % 3 === 1).map((d) => ({ d, s: oracleSignals(d.text) }));
    for (const [name, max] of Object.entries(thresholds)) {
      const rule = `gopher.${name}`;
      const assess = qualityAssessor({ disable: QUALITY_RULES.filter((r) => r !== rule) });
      const over = signals.filter(({ s }) => s[name]! > max);
      // the hardest negatives: the 30 documents closest below the threshold
      const under = signals
        .filter(({ s }) => s[name]! <= max)
        .sort((a, b) => b.s[name]! - a.s[name]!)
        .slice(0, 30);
      expect(over.length, rule).toBeGreaterThanOrEqual(1);
      expect(over.length, rule).toBeLessThan(signals.length / 2);
      for (const { d, s } of over.slice(0, 60)) expect(assess(d.text).reason, `${d.src} ${rule} ${s[name]}`).toBe(rule);
      for (const { d, s } of under) expect(assess(d.text).reason, `${d.src} ${rule} ${s[name]}`).toBeNull();
    }
  });

  it('real prose is not repetitive: sotu and Moby-Dick pass every repetition rule', () => {
    const assess = qualityAssessor({
      disable: [
        'gopher.word_count',
        'gopher.mean_word_length',
        'gopher.symbol_ratio',
        'gopher.bullet_lines',
        'gopher.ellipsis_lines',
        'gopher.alpha_words',
        'gopher.stop_words',
        'c4.*',
      ],
    });
    const failed = [...sotu(), ...mobyDick()].map((d) => [d.name, assess(d.text).reason]).filter(([, r]) => r !== null);
    expect(failed).toEqual([]);
  });

  it('a document repeated several times over fails on duplicate paragraphs and n-grams', () => {
    const chapter = mobyDick()[0]!.text;
    const twice = `${chapter}\n\n${chapter}`;
    const r = qualityAssessor({})(twice, true);
    expect(r.signals.dup_paragraphs).toBeCloseTo(0.5, 1);
    expect(r.signals.dup_10gram).toBeGreaterThan(0.95);
    expect(r.reason).toBe('gopher.dup_lines');
  });
});
