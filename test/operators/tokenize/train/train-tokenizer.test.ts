// The tokenize/train-tokenizer sink over a Doc stream: State of the Union addresses read by
// ingest/read-text train each type; the files appear only when the stream completes; the figures are
// in the stats; every config option shows in what is written.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, take } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { OperatorStats } from '../../../../src/core/stats.ts';
import { readText } from '../../../../operators/ingest/read-text.ts';
import { sotuTexts } from '../../../../operators/ingest/embedded-corpus.ts';
import { trainTokenizer } from '../../../../operators/tokenize/train-tokenizer.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-train-tok-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const addresses = sotuTexts().replace('*.txt', '{180,181,182}*.txt'); // 1800-1829: 30 addresses, ~0.5 MB
const docs = () => readText({ paths: [addresses], batchRows: 4 });

type Json = { model: { type: string; vocab: Record<string, number> | Array<[string, number]>; merges?: string[] } };
const readJson = (f: string) =>
  JSON.parse(readFileSync(f, 'utf8')) as Json & { added_tokens: Array<{ content: string }> };

async function train(config: Parameters<typeof trainTokenizer>[0]) {
  const stats = new OperatorStats('train');
  const [result] = [await lastValueFrom(docs().pipe(trainTokenizer(config, { stats })))];
  return { result, counters: Object.fromEntries(stats.counters) };
}

describe('tokenize/train-tokenizer', () => {
  it('trains a byte-level BPE and writes tokenizer.json and tiktoken ranks', async () => {
    const out = join(tmp, 'bpe.json'),
      tiktoken = join(tmp, 'bpe.tiktoken');
    const { result, counters } = await train({ type: 'bpe', vocabSize: 600, out, tiktoken, specials: ['<|eot|>'] });
    expect(result!.files).toEqual([out, tiktoken]);
    const json = readJson(out);
    expect(json.model.type).toBe('BPE');
    expect(Object.keys(json.model.vocab)).toHaveLength(600);
    expect(json.added_tokens.map((t) => t.content)).toEqual(['<|eot|>']);
    expect(readFileSync(tiktoken, 'utf8').trimEnd().split('\n')).toHaveLength(599);
    expect(counters.vocab).toBe(600);
    expect(counters.merges).toBe(json.model.merges!.length);
    expect(counters.bytes).toBeGreaterThan(400_000);
    expect(counters.spills ?? 0).toBe(0);
    expect(readdirSync(tmp).filter((f) => f.startsWith('.flowlm-tmp'))).toEqual([]);
  });

  it('spills counts beyond maxMemoryMB into tmpDir and trains the same tokenizer', async () => {
    const small = await train({
      type: 'bpe',
      vocabSize: 400,
      out: join(tmp, 'a.json'),
      maxMemoryMB: 0.05,
      tmpDir: tmp,
    });
    const big = await train({ type: 'bpe', vocabSize: 400, out: join(tmp, 'b.json') });
    expect(small.counters.spills).toBeGreaterThan(3);
    expect(big.counters.spills ?? 0).toBe(0);
    expect(readFileSync(join(tmp, 'a.json'), 'utf8')).toBe(readFileSync(join(tmp, 'b.json'), 'utf8'));
    expect(readdirSync(tmp).filter((f) => f.startsWith('flowlm-count-'))).toEqual([]);
    // the runs go to tmpDir: one that does not exist fails the first spill, naming it
    const missing = join(tmp, 'no-such-dir');
    await expect(
      train({ type: 'bpe', vocabSize: 400, out: join(tmp, 'c.json'), maxMemoryMB: 0.05, tmpDir: missing }),
    ).rejects.toThrow(missing);
    expect(existsSync(join(tmp, 'c.json'))).toBe(false);
  });

  it('minFrequency bounds the merges', async () => {
    const { counters } = await train({ type: 'bpe', vocabSize: 3000, out: join(tmp, 'm.json'), minFrequency: 50 });
    const all = await train({ type: 'bpe', vocabSize: 3000, out: join(tmp, 'n.json') });
    expect(counters.merges).toBeLessThan(all.counters.merges! / 2);
  });

  it('trains WordPiece, lower-cased or not', async () => {
    const lower = join(tmp, 'wp.json'),
      cased = join(tmp, 'wp-cased.json');
    await train({ type: 'wordpiece', vocabSize: 800, out: lower });
    await train({ type: 'wordpiece', vocabSize: 800, out: cased, lowercase: false });
    const l = readJson(lower),
      c = readJson(cased);
    expect(l.model.type).toBe('WordPiece');
    expect(Object.keys(l.model.vocab)).toHaveLength(800);
    expect(l.model.vocab).not.toHaveProperty('T');
    expect(c.model.vocab).toHaveProperty('T');
  });

  it('writes nothing when the stream is cancelled', async () => {
    const out = join(tmp, 'never.json');
    const sub = docs()
      .pipe(take(2), trainTokenizer({ type: 'bpe', vocabSize: 300, out }))
      .subscribe({ error: () => {} });
    sub.unsubscribe();
    await new Promise((r) => setTimeout(r, 200));
    expect(existsSync(out)).toBe(false);
  });

  it('refuses tiktoken ranks for a type other than bpe', async () => {
    const out = join(tmp, 'x.json');
    await expect(
      lastValueFrom(
        docs().pipe(trainTokenizer({ type: 'wordpiece', vocabSize: 300, out, tiktoken: `${out}.tiktoken` })),
      ),
    ).rejects.toThrow(/tiktoken ranks exist for type bpe only/);
  });
});
