// A slice of the embedded corpus for prep tests (State of the Union addresses 2000-2009 and Moby-Dick
// chapters 1-9, ~420 kB), and what preparing it must give, worked out independently of flowlm: each
// file's text trimmed and normalised (clean/normalize's NFC and whitespace rules), exact duplicates
// dropped, encoded by js-tiktoken with <|endoftext|> after each document.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { getEncoding } from 'js-tiktoken';
import { mobyDickChapters, sotuTexts } from '../../operators/ingest/embedded-corpus.ts';
import { normalizeText } from '../../operators/clean/normalize.ts';
import { expandGlobs } from '../../src/runtime/files.ts';

export const SUBSET_INPUTS = [
  join(dirname(sotuTexts()), '200*.txt'),
  join(dirname(mobyDickChapters()), 'chapter_?.txt'),
];
const EOT = 100257; // cl100k <|endoftext|>

/** The documents' normalised texts, in input order, exact duplicates (lower-cased, whitespace collapsed) dropped. */
export async function subsetDocuments(inputs: readonly string[] = SUBSET_INPUTS): Promise<string[]> {
  const seen = new Set<string>();
  const docs: string[] = [];
  for (const file of await expandGlobs(inputs)) {
    const raw = readFileSync(file, 'utf8')
      .replace(/^\uFEFF/, '')
      .trim();
    const key = raw.toLowerCase().replace(/\s+/g, ' ').trim();
    if (seen.has(key)) continue;
    seen.add(key);
    docs.push(normalizeText(raw, { form: 'NFC', whitespace: true, controls: true }));
  }
  return docs;
}

/** Each document's cl100k ids by js-tiktoken, end-of-text appended. */
export function referenceTokens(docs: readonly string[]): number[][] {
  const enc = getEncoding('cl100k_base');
  return docs.map((d) => [...enc.encode(d, [], []), EOT]);
}

/** Packed accounting: rows of seqLen+1 from a stream of n tokens, consecutive rows sharing one token. */
export const packedRows = (n: number, seqLen: number) => Math.max(0, Math.floor((n - 1) / seqLen));
