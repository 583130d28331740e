// Bounded piece counting: a bound far below the corpus's distinct pieces forces many spills to disk,
// and the merged counts equal plain Map counting exactly; the spill files go where asked and are
// removed at the end.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ENTRY_OVERHEAD, PieceCounter } from '../../../../operators/tokenize/train/count-pieces.ts';
import { gpt2Pieces, splitterFor } from '../../../../operators/tokenize/train/count-split.ts';
import { CORNER_CASES, MULTILINGUAL, proseSample, spamSample } from '../samples.ts';

const docs = [...proseSample(150_000, 2), ...spamSample(60_000, 1), ...MULTILINGUAL, ...CORNER_CASES];
const tmp = mkdtempSync(join(tmpdir(), 'flowlm-count-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function plainCounts(split = gpt2Pieces): Map<string, number> {
  const m = new Map<string, number>();
  for (const d of docs) split(d, (p) => m.set(p, (m.get(p) ?? 0) + 1));
  return m;
}

describe('PieceCounter', () => {
  it('gives exact counts when a tiny bound forces many spills', () => {
    const want = plainCounts();
    expect(want.size).toBeGreaterThan(8_000);
    const c = new PieceCounter({ maxBytes: 20_000, tmpDir: tmp });
    for (const d of docs) gpt2Pieces(d, (p) => c.add(p));
    // about 20 kB of entries per run: dozens of runs
    expect(c.spills).toBeGreaterThan(20);
    const spillDirs = readdirSync(tmp).filter((f) => f.startsWith('flowlm-count-'));
    expect(spillDirs).toHaveLength(1); // tmpDir is where the runs go
    const got = new Map<string, number>();
    let prev = '';
    for (const [k, n] of c.entries()) {
      expect(got.has(k), `piece ${JSON.stringify(k)} came out twice`).toBe(false);
      expect(k > prev || got.size === 0).toBe(true); // merged in piece order
      prev = k;
      got.set(k, n);
    }
    expect(got).toEqual(want);
    expect(c.total).toBe([...want.values()].reduce((a, b) => a + b, 0));
    expect(existsSync(join(tmp, spillDirs[0]!))).toBe(false); // removed after the merge
  });

  it('keeps everything in memory under a large bound', () => {
    const c = new PieceCounter({ maxBytes: 1 << 30 });
    for (const d of docs) gpt2Pieces(d, (p) => c.add(p));
    expect(c.spills).toBe(0);
    expect(new Map(c.entries())).toEqual(plainCounts());
  });

  it('spills once the estimated size passes the bound', () => {
    const c = new PieceCounter({ maxBytes: 10 * (ENTRY_OVERHEAD + 2) - 1, tmpDir: tmp });
    for (let k = 0; k < 9; k++) c.add(String.fromCharCode(97 + k));
    expect(c.spills).toBe(0);
    c.add('j');
    expect(c.spills).toBe(1);
    c.add('a', 5); // a known piece costs nothing
    expect(c.spills).toBe(1);
    expect(new Map(c.entries()).get('a')).toBe(6);
  });

  it('counts pieces with newlines, tabs, quotes and backslashes through spills', () => {
    const odd = ['\n\n', '\t', ' "q"', '\\', '\u2028', 'a\r\nb', '\ud83d\ude00', ''];
    const c = new PieceCounter({ maxBytes: 100, tmpDir: tmp });
    for (let r = 0; r < 3; r++) for (const p of odd) c.add(p);
    expect(c.spills).toBeGreaterThan(3);
    expect(new Map(c.entries())).toEqual(new Map(odd.map((p) => [p, 3])));
  });

  it('splits for WordPiece and Unigram as stated', () => {
    const words: string[] = [];
    splitterFor('wordpiece', { lowercase: true })('Héllo, WORLD! naïve', (w) => words.push(w));
    expect(words).toEqual(['hello', ',', 'world', '!', 'naive']);
    const cased: string[] = [];
    splitterFor('wordpiece', { lowercase: false })('Héllo, WORLD!', (w) => cased.push(w));
    expect(cased).toEqual(['Héllo', ',', 'WORLD', '!']);
    const uni: string[] = [];
    splitterFor('unigram')('  Hello   world\nＡＢＣ\tdef\n', (w) => uni.push(w));
    expect(uni).toEqual(['\u2581Hello', '\u2581world', '\u2581ABC', '\u2581def']); // NFKC, as spm normalizes
  });
});
