// Small real documents for the document-masking, padding and evaluation tests: the sentences of
// Moby-Dick chapter 1 (each cut to at most `maxBytes`) as byte tokens, vocabulary 257 with 256 as EOS;
// packed into rows as pack/pack-sequences packs them (EOS after each document, rows of seqLen + 1
// overlapping by one token, doc_starts at each document's first token), and each packed row's
// documents as one-row batches of their own.
import { readFileSync } from 'node:fs';
import { mobyDickChapters } from '../../operators/ingest/embedded-corpus.ts';
import type { PackedBatch } from '../../src/nn/objective/loss.ts';

export const BYTE_EOS = 256;
export const BYTE_VOCAB = 257;

/** Sentences of chapter 1 as byte tokens, the `count` after the first `skip`, each at most `maxBytes`. */
export function sentenceDocs(count: number, maxBytes = 24, skip = 0): Int32Array[] {
  const text = readFileSync(mobyDickChapters().replace('chapter_*.txt', 'chapter_1.txt'), 'utf8');
  const sentences = text
    .split(/(?<=[.!?;])\s+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (sentences.length < skip + count) throw new Error(`sentenceDocs: chapter 1 has ${sentences.length} sentences`);
  return sentences.slice(skip, skip + count).map((s) => Int32Array.from(Buffer.from(s, 'utf8').subarray(0, maxBytes)));
}

/** The documents joined with EOS after each and cut into `rows` rows of seqLen + 1 (consecutive rows
 * share a token), with each row's doc_starts (offsets 0..seqLen where a document's first token is). */
export function packDocs(docs: readonly Int32Array[], rows: number, seqLen: number): PackedBatch {
  const stream: number[] = [];
  const starts: number[] = [];
  for (const d of docs) {
    starts.push(stream.length);
    stream.push(...d, BYTE_EOS);
  }
  if (stream.length < rows * seqLen + 1)
    throw new Error(`packDocs: ${stream.length} tokens do not fill ${rows} rows of ${seqLen + 1}`);
  const inputIds = new Int32Array(rows * (seqLen + 1));
  const docStarts: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const o = r * seqLen;
    inputIds.set(stream.slice(o, o + seqLen + 1), r * (seqLen + 1));
    docStarts.push(starts.filter((s) => s >= o && s <= o + seqLen).map((s) => s - o));
  }
  return { inputIds, batch: rows, seqLen, docStarts };
}

/** Each row's documents as one-row batches: a document's tokens from its start to the next start
 * (or the row's end), inputs and targets exactly as in the row, so the last target of a document is
 * the row's next token (after EOS, the next document's first); a part's seqLen is its target count. */
export function documentsOf(b: PackedBatch): PackedBatch[] {
  const w = b.seqLen + 1;
  const out: PackedBatch[] = [];
  for (let r = 0; r < b.batch; r++) {
    const cuts = [
      ...new Set([0, ...Array.from(b.docStarts?.[r] ?? []).filter((s) => s > 0 && s < b.seqLen), b.seqLen]),
    ].sort((x, y) => x - y);
    for (let k = 0; k + 1 < cuts.length; k++) {
      const [s, e] = [cuts[k]!, cuts[k + 1]!];
      out.push({ inputIds: b.inputIds.slice(r * w + s, r * w + e + 1), batch: 1, seqLen: e - s });
    }
  }
  return out;
}
