// `flowlm tokenizer train`: a few State of the Union addresses train a byte-level BPE through the real
// executable (tokenizer.json that tokenizers.js loads, tiktoken ranks whose ids it matches, the figures
// in the report), WordPiece in-process, and bad usage exits 2 saying what to do.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, describe, expect, it } from 'vitest';
import { sotuTexts } from '../../operators/ingest/embedded-corpus.ts';
import { callMain as call } from './in-process.ts';
import { flowlm, lastJson } from './spawn.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-cli-tok-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const addresses = sotuTexts().replace('*.txt', '190*.txt'); // 1900-1909: ~1.1 MB

describe('flowlm tokenizer train', () => {
  it('trains a byte-level BPE on real text and writes valid tokenizer.json and tiktoken ranks', async () => {
    const out = join(tmp, 'bpe', 'tokenizer.json'),
      ranks = join(tmp, 'bpe', 'ranks.tiktoken');
    const r = await flowlm([
      'tokenizer',
      'train',
      '--input',
      addresses,
      '--type',
      'bpe',
      '--vocab',
      '1200',
      '--out',
      out,
      '--tiktoken',
      ranks,
      '--json',
      '--progress',
      'none',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const summary = lastJson(r.stdout) as { ok: boolean; tokenizer: Record<string, unknown> };
    expect(summary.ok).toBe(true);
    expect(summary.tokenizer).toMatchObject({ type: 'bpe', vocab: 1200, files: [out, ranks] });
    expect(summary.tokenizer.megabytes).toBeGreaterThan(0.8);
    expect(summary.tokenizer.mbPerSecond).toBeGreaterThan(0);
    const json = JSON.parse(readFileSync(out, 'utf8')) as { model: { merges: string[] } };
    expect(json.model.merges).toHaveLength(summary.tokenizer.merges as number);
    const hf = new Tokenizer(json, { clean_up_tokenization_spaces: false });
    const text = readFileSync(sotuTexts().replace('*.txt', '2001_george_w_bush_r.txt'), 'utf8');
    const ids = hf.encode(text).ids;
    expect(hf.decode(ids)).toBe(text);
    expect(ids.length).toBeLessThan(Buffer.byteLength(text) / 2.5);
    // every id is a rank of the tiktoken file, and the ranks' bytes spell the text
    const bytes = readFileSync(ranks, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => Buffer.from(l.split(' ')[0]!, 'base64'));
    expect(bytes).toHaveLength(1199); // <|endoftext|> is not a rank
    expect(Buffer.concat(ids.map((id: number) => bytes[id]!)).toString('utf8')).toBe(text);
  });

  it('trains WordPiece and reports the vocabulary and MB/s', async () => {
    const out = join(tmp, 'wp.json');
    const r = await call([
      'tokenizer',
      'train',
      '--input',
      sotuTexts().replace('*.txt', '{1900,1901,1902}*.txt'),
      '--type',
      'wordpiece',
      '--vocab',
      '900',
      '--out',
      out,
      '--progress',
      'none',
      '--special',
      '[UNK]',
      '--special',
      '[SEP]',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/trained wordpiece: vocab 900, \d+ merges from [\d.]+ MB/);
    expect(r.stdout).toMatch(/[\d.]+ MB\/s/);
    const json = JSON.parse(readFileSync(out, 'utf8')) as { model: { vocab: Record<string, number> } };
    expect([json.model.vocab['[UNK]'], json.model.vocab['[SEP]']]).toEqual([0, 1]);
    expect(json.model.vocab).not.toHaveProperty('[CLS]');
  });

  it('trains Unigram with control pieces from --special', async () => {
    const out = join(tmp, 'uni.json');
    const r = await call([
      'tokenizer',
      'train',
      '--input',
      sotuTexts().replace('*.txt', '179*.txt'),
      '--type',
      'unigram',
      '--vocab',
      '400',
      '--out',
      out,
      '--progress',
      'none',
      '--special',
      '<bos>',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/trained unigram: vocab 400 from/);
    const json = JSON.parse(readFileSync(out, 'utf8')) as {
      model: { type: string; unk_id: number; vocab: string[][] };
    };
    expect(json.model.type).toBe('Unigram');
    expect(json.model.vocab.slice(0, 2).map((p) => p[0])).toEqual(['<unk>', '<bos>']);
    expect(json.model.unk_id).toBe(0);
  });

  it('rejects bad usage with exit 2 and a pointer to the help', async () => {
    const out = join(tmp, 'never.json');
    const cases: Array<[string[], RegExp]> = [
      [['tokenizer', 'train', '--out', out], /--vocab N is required/],
      [['tokenizer', 'train', '--vocab', '100'], /--out FILE is required/],
      [
        ['tokenizer', 'train', '--vocab', '100', '--out', out, '--type', 'bytes'],
        /--type expects one of bpe, wordpiece, unigram/,
      ],
      [
        ['tokenizer', 'train', '--vocab', '100', '--out', out, '--type', 'wordpiece', '--tiktoken', 'x'],
        /needs --type bpe/,
      ],
      [['tokenizer', 'train', '--vocab', 'many', '--out', out], /--vocab expects a positive integer/],
      [['tokenizer', 'fit'], /unknown subcommand "tokenizer fit"/],
    ];
    for (const [argv, msg] of cases) {
      const r = await call(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).toMatch(/see: flowlm tokenizer --help/);
    }
    const help = await call(['tokenizer', '--help']);
    expect(help.code).toBe(0);
    for (const flag of [
      '--input',
      '--type',
      '--vocab',
      '--out',
      '--tiktoken',
      '--max-memory-mb',
      '--special',
      '--no-lowercase',
      '--min-frequency',
    ])
      expect(help.stdout).toContain(flag);
  });
});
