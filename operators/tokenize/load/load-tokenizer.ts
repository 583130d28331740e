// Loads a tokenizer file for the `tokenize` operator, by its contents: a Hugging Face tokenizer.json
// (JSON with a "model"), a tiktoken ranks file (lines "<base64 token> <rank>"), or else a
// SentencePiece .model (a protobuf). Read synchronously: a kernel is built synchronously in each
// worker thread, and each thread loads the file once.
import { readFileSync } from 'node:fs';
import { hfTokenizer } from '../hf/hf-tokenizer.ts';
import { spmTokenizer } from '../spm/spm-tokenizer.ts';
import type { LoadedTokenizer } from './loaded-tokenizer.ts';
import { tiktokenFile } from './tiktoken-file.ts';

export interface LoadOptions {
  /** flowlm engine's piece cache entries (byte-level BPE files) */
  cacheEntries?: number;
}

const loaded = new Map<string, LoadedTokenizer>();

/** The tokenizer in `file` (loaded once per thread). */
export function loadTokenizer(file: string, opts: LoadOptions = {}): LoadedTokenizer {
  const key = `${file}\0${opts.cacheEntries ?? ''}`;
  let t = loaded.get(key);
  if (!t) {
    t = loadFresh(file, opts);
    loaded.set(key, t);
  }
  return t;
}

function loadFresh(file: string, opts: LoadOptions): LoadedTokenizer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new Error(
      `tokenizer file ${file} cannot be read (${(e as Error).message}); give a tokenizer.json, a SentencePiece .model or a .tiktoken file`,
    );
  }
  const head = bytes.subarray(0, 64).toString('latin1').trimStart();
  if (head.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch (e) {
      throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
    }
    return hfTokenizer(json, file, opts);
  }
  if (/^[A-Za-z0-9+/=]+ \d+\r?\n/.test(head)) return tiktokenFile(bytes.toString('utf8'), file, opts);
  return spmTokenizer(bytes, file);
}
