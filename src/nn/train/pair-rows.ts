// Preference pairs as training rows: one shard row of 2 (L + 1) tokens holds a pair, the chosen row of
// L + 1 tokens then the rejected one, each laid out as an SFT row (attention_mask 1 only on the
// response tokens' targets, right-padded), so the trainer's seeded shuffle keeps a pair together.
// The pair objectives ('reward', 'dpo') cut each micro-batch back into its two halves here.
import type { PackedBatch } from '../objective/loss.ts';

export interface PairBatches {
  /** [pairs, L + 1]: the first half of each row */
  chosen: PackedBatch;
  /** [pairs, L + 1]: the second half of each row */
  rejected: PackedBatch;
}

/** Checks that rows of `width` tokens can hold pairs; returns L + 1, the width of each half. */
export function pairHalfWidth(width: number, where = 'pair rows'): number {
  if (width % 2 !== 0 || width < 4)
    throw new Error(
      `${where}: the 'reward' and 'dpo' objectives read rows of 2 x (L + 1) tokens (the chosen row, then the ` +
        `rejected one), ` +
        `but the data's rows hold ${width} tokens (seqLen ${width - 1}), an odd width; prepare the pairs as one row ` +
        `per pair ` +
        '(the pair packer), and leave data.seqLen unset so rows are not cropped',
    );
  return width / 2;
}

/** The chosen and rejected halves of pair rows (copies), each with its half of the attention mask. */
export function splitPairRows(batch: PackedBatch): PairBatches {
  const width = batch.seqLen + 1;
  const half = pairHalfWidth(width);
  const mask = batch.attentionMask;
  if (!mask)
    throw new Error(
      "pair rows: no attention_mask; the 'reward' and 'dpo' objectives need it to mark the response tokens of each " +
        'half',
    );
  // doc_starts, if any, are not needed: each half becomes a row of its own
  const n = batch.batch;
  // rows of another layout (an SFT row, or a pair as two rows) of even width would otherwise be cut in
  // two silently: a half's first token is never a target (nothing before it predicts it), and each half
  // holds a response
  for (let r = 0; r < n; r++)
    for (const [offset, name] of [
      [0, 'chosen'],
      [half, 'rejected'],
    ] as const) {
      const from = r * width + offset;
      const m = mask.subarray(from, from + half);
      if (m[0] !== 0 || !m.some((v, j) => j > 0 && v !== 0))
        throw new Error(
          `pair rows: row ${r} is not a pair row: its ${name} half (tokens ${offset}..${offset + half - 1}) ${m[0] !== 0 ? 'starts with a target token' : 'has no response token'}; ` +
            "the 'reward' and 'dpo' objectives read one row per pair, [chosen row of L + 1 | rejected row of L + " +
            '1], each with attention_mask 1 only on its response tokens',
        );
    }
  const cut = (offset: number): PackedBatch => {
    const ids = new Int32Array(n * half);
    const m = new Uint8Array(n * half);
    for (let r = 0; r < n; r++) {
      const from = r * width + offset;
      ids.set(batch.inputIds.subarray(from, from + half), r * half);
      m.set(mask.subarray(from, from + half), r * half);
    }
    return { inputIds: ids, batch: n, seqLen: half - 1, attentionMask: m };
  };
  return { chosen: cut(0), rejected: cut(half) };
}

/** The pairs' rows in one batch: the chosen rows, then the rejected ones (one forward pass for both). */
export function stackPairs(p: PairBatches): PackedBatch {
  const { chosen: c, rejected: r } = p;
  const ids = new Int32Array(c.inputIds.length + r.inputIds.length);
  ids.set(c.inputIds);
  ids.set(r.inputIds, c.inputIds.length);
  const mask = new Uint8Array(ids.length);
  mask.set(c.attentionMask!);
  mask.set(r.attentionMask!, c.attentionMask!.length);
  return { inputIds: ids, batch: c.batch + r.batch, seqLen: c.seqLen, attentionMask: mask };
}

/** Per row, the input position whose hidden state scores it: the last response token among the
 * inputs x = row[0..L-1] (the row's final token is only a target, so a response that runs to the end
 * of the row is read at L - 1). A row without a response token is an error. */
export function lastResponseIndex(rows: PackedBatch, where = 'pair rows'): Int32Array {
  const { batch, seqLen } = rows;
  const width = seqLen + 1;
  const mask = rows.attentionMask!;
  const out = new Int32Array(batch);
  for (let b = 0; b < batch; b++) {
    let last = -1;
    for (let j = 1; j < width; j++) if (mask[b * width + j]) last = j;
    if (last < 0)
      throw new Error(
        `${where}: row ${b} has no response token (its attention_mask is 0 throughout); every half of a pair needs ` +
          `a response`,
      );
    out[b] = Math.min(last, seqLen - 1);
  }
  return out;
}
