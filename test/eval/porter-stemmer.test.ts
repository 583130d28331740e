// NLTK's PorterStemmer, every mode, against stems NLTK itself produced (test/fixtures/eval/rouge/
// stems.tsv, written by make-stems.py: Moby-Dick chapters 1-15, rouge-score's testdata words and
// words that reach every rule branch).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type PorterMode, PorterStemmer } from '../../operators/eval/metrics/porter-stemmer.ts';

const fixtureDir = join(import.meta.dirname, '..', 'fixtures', 'eval', 'rouge');
const MODES: PorterMode[] = ['NLTK_EXTENSIONS', 'MARTIN_EXTENSIONS', 'ORIGINAL_ALGORITHM'];

// stems.tsv: a '#' source line, a header (word + the three modes), then one word per line.
function readStems(): { words: string[]; stems: Record<PorterMode, string[]> } {
  const lines = readFileSync(join(fixtureDir, 'stems.tsv'), 'utf8').split('\n');
  const [, header, ...rows] = lines.filter((l) => l.length > 0);
  expect(header?.split('\t')).toEqual(['word', ...MODES]);
  const words: string[] = [];
  const stems = { NLTK_EXTENSIONS: [], MARTIN_EXTENSIONS: [], ORIGINAL_ALGORITHM: [] } as Record<PorterMode, string[]>;
  for (const row of rows) {
    const [word, ...byMode] = row.split('\t');
    words.push(word as string);
    MODES.forEach((m, i) => stems[m].push(byMode[i] as string));
  }
  return { words, stems };
}
const fixture = readStems();
describe('PorterStemmer against NLTK', () => {
  it('has a fixture of thousands of words whose stems differ by mode', () => {
    expect(fixture.words.length).toBeGreaterThan(3000);
    const nltk = fixture.stems.NLTK_EXTENSIONS;
    expect(fixture.stems.ORIGINAL_ALGORITHM.some((s, i) => s !== nltk[i])).toBe(true);
  });

  for (const mode of MODES) {
    it(`stems every fixture word as NLTK does in ${mode} mode`, () => {
      const stemmer = new PorterStemmer(mode);
      const expected = fixture.stems[mode];
      const wrong = fixture.words
        .map((word, i) => ({ word, expected: expected[i], got: stemmer.stem(word) }))
        .filter((r) => r.got !== r.expected);
      expect(wrong).toEqual([]);
    });
  }

  it('defaults to NLTK_EXTENSIONS, the mode rouge-score uses (porter.PorterStemmer())', () => {
    expect(new PorterStemmer().mode).toBe('NLTK_EXTENSIONS');
    // NLTK's irregular forms exist only in that mode.
    expect(new PorterStemmer().stem('dying')).toBe('die');
    expect(new PorterStemmer('ORIGINAL_ALGORITHM').stem('dying')).toBe('dy');
  });

  it('lowercases before stemming, as stem(word, to_lowercase=True)', () => {
    const s = new PorterStemmer();
    for (const word of ['hopping', 'caresses', 'generalli']) {
      const i = fixture.words.indexOf(word);
      expect(i).toBeGreaterThanOrEqual(0);
      expect(s.stem(word.toUpperCase())).toBe(fixture.stems.NLTK_EXTENSIONS[i]);
    }
  });

  it('rejects an unknown mode, naming the valid ones', () => {
    expect(() => new PorterStemmer('SNOWBALL' as PorterMode)).toThrow(/NLTK_EXTENSIONS/);
  });
});
