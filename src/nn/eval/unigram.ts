// The unigram baseline: next-token probabilities from token counts alone (add-one smoothed over the
// vocabulary), and its perplexity on held-out rows. A language model that learned anything about
// context must beat it; `npm run demo` reports both.
import type { PackedBatch } from '../objective/loss.ts';

export class UnigramCounts {
  readonly counts: Float64Array;
  total = 0;
  constructor(readonly vocabSize: number) {
    this.counts = new Float64Array(vocabSize);
  }

  /** Counts the prediction targets of each row (row[1..seqLen], padding excluded), the tokens a
   * model is scored on. */
  add(b: PackedBatch): void {
    const w = b.seqLen + 1;
    for (let r = 0; r < b.batch; r++) {
      for (let i = r * w + 1; i < (r + 1) * w; i++) {
        if (b.attentionMask?.[i] === 0) continue;
        const t = b.inputIds[i]!;
        if (t < 0 || t >= this.vocabSize)
          throw new RangeError(`unigram: token ${t} outside the vocabulary [0, ${this.vocabSize})`);
        this.counts[t]!++;
        this.total++;
      }
    }
  }

  /** -log p(token), add-one smoothed. */
  nll(t: number): number {
    return -Math.log((this.counts[t]! + 1) / (this.total + this.vocabSize));
  }
}

/** Mean cross-entropy (nats) and perplexity of the unigram model on the targets of `batches`. */
export async function unigramPerplexity(
  model: UnigramCounts,
  batches: AsyncIterable<PackedBatch>,
): Promise<{ loss: number; perplexity: number; tokens: number }> {
  let sum = 0;
  let n = 0;
  for await (const b of batches) {
    const w = b.seqLen + 1;
    for (let r = 0; r < b.batch; r++) {
      for (let i = r * w + 1; i < (r + 1) * w; i++)
        if (b.attentionMask?.[i] !== 0) {
          sum += model.nll(b.inputIds[i]!);
          n++;
        }
    }
  }
  if (n === 0) throw new Error('unigramPerplexity: no held-out tokens');
  return { loss: sum / n, perplexity: Math.exp(sum / n), tokens: n };
}
