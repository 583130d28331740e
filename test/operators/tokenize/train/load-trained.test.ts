// Files the trainer writes, read back: Hugging Face's Rust tokenizers (ids committed in rust-ids.json,
// see make-rust-ids.ts), tokenizers.js, and the tokenize operator's loader (loadTokenizer, what
// `flowlm prep --tokenizer FILE` uses; BPE's tiktoken ranks too) all encode held-out lines the same.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, describe, expect, it } from 'vitest';
import { IdBuffer } from '../../../../operators/tokenize/engine/id-buffer.ts';
import { loadTokenizer } from '../../../../operators/tokenize/load/load-tokenizer.ts';
import { heldOutLines, trainSmall, TYPES } from './trained-models.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-load-trained-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const rust = JSON.parse(readFileSync(new URL('./rust-ids.json', import.meta.url), 'utf8')) as Record<
  string,
  number[][]
>;

const ids = (file: string, text: string) => {
  const out = new IdBuffer();
  loadTokenizer(file).encode(text, out);
  return Array.from(out.view());
};

describe('trained tokenizers read back', () => {
  it.each(TYPES)("%s: Rust tokenizers' ids = tokenizers.js = loadTokenizer on held-out lines", async (type) => {
    const files = await trainSmall(type, tmp);
    const hf = new Tokenizer(JSON.parse(readFileSync(files[0]!, 'utf8')), {});
    const lines = heldOutLines();
    expect(rust[type]).toHaveLength(lines.length);
    lines.forEach((line, k) => {
      const want = rust[type]![k]!;
      expect(hf.encode(line).ids, line).toEqual(want);
      expect(ids(files[0]!, line), line).toEqual(want);
      if (files[1]) expect(ids(files[1], line), line).toEqual(want);
    });
  });
});
