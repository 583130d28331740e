// The tokenize operator with `tokenizer: FILE`: ids are the loaded tokenizer's, begin and end tokens
// come from the file (Llama's template adds <s>; an spm model's eos_id; a tiktoken file's
// <|endoftext|>) or by name, a file with no end token fails validation with what to do, and the
// operator on 2 workers gives what it gives in a plain pipe.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Int32, List, RecordBatch, type Vector } from 'apache-arrow';
import { from, lastValueFrom, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { rankTable } from '../../../../operators/tokenize/engine/encodings.ts';
import { loadTokenizer } from '../../../../operators/tokenize/load/load-tokenizer.ts';
import { tokenize } from '../../../../operators/tokenize/tokenize.ts';
import { WorkerPool } from '../../../../src/runtime/worker-pool.ts';
import { docBatches, mobyParagraphs } from '../../../fixtures/moby.ts';
import { tokenizeOnPool } from '../on-pool.ts';
import { FIXTURES, LLAMA2_JSON, ids } from './references.ts';

const tokensOf = (batches: RecordBatch[]) =>
  batches.flatMap((b) =>
    Array.from(b.getChild('tokens')! as Vector<List<Int32>>, (v) => Array.from(v!.toArray() as Int32Array)),
  );
const run = (batches: RecordBatch[], config: Parameters<typeof tokenize>[0]) =>
  lastValueFrom(from(batches).pipe(tokenize(config), toArray()));
const texts = mobyParagraphs(3).slice(0, 12);
const input = docBatches(texts, 4);
const idsOf = (file: string, text: string) => ids(loadTokenizer(file), text).split(' ').map(Number);
const dir = mkdtempSync(join(tmpdir(), 'flowlm-tokenizer-'));
let pool: WorkerPool | undefined;
afterAll(async () => pool?.close());

describe('tokenize with a tokenizer file', () => {
  it('encodes with a SentencePiece model, its </s> after each document; bos: true is its <s>', async () => {
    const file = `${FIXTURES}spm-bpe-llama.model`;
    const got = tokensOf(await run(input, { tokenizer: file }));
    expect(got).toEqual(texts.map((t) => [...idsOf(file, t), 2]));
    const both = tokensOf(await run(input, { tokenizer: file, bos: true, eos: false }));
    expect(both).toEqual(texts.map((t) => [1, ...idsOf(file, t)]));
    // and not the default encoding's ids
    expect(tokensOf(await run(input, { encoding: 'cl100k' }))[0]).not.toEqual(got[0]);
  });

  it("adds Llama's <s> from its template unless bos is false, and names tokens by their strings", async () => {
    const llama = tokensOf(await run(input, { tokenizer: LLAMA2_JSON }));
    expect(llama).toEqual(texts.map((t) => [1, ...idsOf(LLAMA2_JSON, t), 2]));
    const named = tokensOf(await run(input, { tokenizer: LLAMA2_JSON, bos: false, eos: '<unk>' }));
    expect(named).toEqual(texts.map((t) => [...idsOf(LLAMA2_JSON, t), 0]));
  });

  it('reads a .tiktoken ranks file: the flowlm engine over its ranks, <|endoftext|> after them', async () => {
    const table = rankTable('gpt2');
    const lines: string[] = [];
    for (let r = 0; r < table.size; r++) lines.push(`${Buffer.from(table.bytesOf(r)!).toString('base64')} ${r}`);
    const file = join(dir, 'gpt2.tiktoken');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const got = tokensOf(await run(input, { tokenizer: file }));
    const gpt2 = tokensOf(await run(input, { encoding: 'gpt2' }));
    expect(got).toEqual(gpt2);
  });

  it('fails validation with what to do when the file has no end token, or lacks a named one', () => {
    const json = JSON.parse(readFileSync(LLAMA2_JSON, 'utf8')) as { added_tokens: unknown[]; post_processor: unknown };
    const file = join(dir, 'no-eos.json');
    writeFileSync(file, JSON.stringify({ ...json, added_tokens: [], post_processor: null }));
    expect(() => tokenize({ tokenizer: file })).toThrow(
      /config\.tokenizer: .*no-eos\.json configures no end-of-text token; set eos: false/,
    );
    expect(() => tokenize({ tokenizer: LLAMA2_JSON, eos: '<|endoftext|>' })).toThrow(
      /has no special token <\|endoftext\|> \(it has <unk>, <s>, <\/s>\)/,
    );
    expect(() => tokenize({ tokenizer: join(dir, 'missing.json') })).toThrow(/missing\.json cannot be read/);
  });

  it('gives the same ids on 2 workers as in a plain pipe', async () => {
    const file = `${FIXTURES}spm-unigram.model`;
    const plain = tokensOf(await run(input, { tokenizer: file }));
    pool = new WorkerPool({ size: 2 });
    const { r, got } = await tokenizeOnPool(input, { tokenizer: file }, pool);
    expect(r.error).toBeUndefined();
    expect(pool.threads).toBe(2);
    expect(tokensOf(got)).toEqual(plain);
  });
});
