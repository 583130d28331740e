// A training step's rows as one batch and back: the data source emits each optimizer step as one
// Packed batch (this rank's gradAccum x batchSize rows), so the credit ledger paces the chain a step
// at a time; forward-backward cuts it into its micro-batches again. Document starts and padding
// masks travel with their rows.
import type { PackedBatch } from '../objective/loss.ts';

/** The rows of several batches (same seqLen) as one. */
export function joinRows(parts: readonly PackedBatch[]): PackedBatch {
  if (parts.length === 0) throw new Error('joinRows: no batches');
  if (parts.length === 1) return parts[0]!;
  const seqLen = parts[0]!.seqLen;
  const width = seqLen + 1;
  const rows = parts.reduce((n, p) => n + p.batch, 0);
  const ids = new Int32Array(rows * width);
  const anyMask = parts.some((p) => p.attentionMask);
  const anyStarts = parts.some((p) => p.docStarts);
  const mask = anyMask ? new Uint8Array(rows * width).fill(1) : undefined;
  const starts: number[][] = [];
  let at = 0;
  for (const p of parts) {
    if (p.seqLen !== seqLen) throw new Error(`joinRows: rows of ${p.seqLen} and ${seqLen} tokens in one step`);
    ids.set(p.inputIds.subarray(0, p.batch * width), at * width);
    if (mask && p.attentionMask) mask.set(p.attentionMask.subarray(0, p.batch * width), at * width);
    if (anyStarts) for (let r = 0; r < p.batch; r++) starts.push(p.docStarts ? Array.from(p.docStarts[r]!) : [0]);
    at += p.batch;
  }
  return {
    inputIds: ids,
    batch: rows,
    seqLen,
    ...(anyStarts ? { docStarts: starts } : {}),
    ...(mask ? { attentionMask: mask } : {}),
  };
}

/** Consecutive batches of `rows` rows each (views of the ids); the row count must divide evenly. */
export function splitRows(b: PackedBatch, rows: number): PackedBatch[] {
  if (b.batch % rows !== 0) throw new Error(`splitRows: ${b.batch} rows do not make micro-batches of ${rows}`);
  const width = b.seqLen + 1;
  const out: PackedBatch[] = [];
  for (let r = 0; r < b.batch; r += rows) {
    out.push({
      inputIds: b.inputIds.subarray(r * width, (r + rows) * width),
      batch: rows,
      seqLen: b.seqLen,
      ...(b.docStarts ? { docStarts: Array.from({ length: rows }, (_, k) => b.docStarts![r + k]!) } : {}),
      ...(b.attentionMask ? { attentionMask: b.attentionMask.subarray(r * width, (r + rows) * width) } : {}),
    });
  }
  return out;
}
