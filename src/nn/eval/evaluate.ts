// Validation: the mean loss over held-out micro-batches (weighted by rows) and its perplexity.
import type { Gpt } from '../model/gpt.ts';
import { autoregressiveLossValue, type PackedBatch } from '../objective/loss.ts';

export interface EvalResult { loss: number; perplexity: number; batches: number }

/** Mean validation loss over at most `maxBatches` micro-batches, and its perplexity. */
export async function evaluate(model: Gpt, batches: AsyncIterable<PackedBatch>, maxBatches: number, labelSmoothing = 0): Promise<EvalResult> {
  let sum = 0;
  let weight = 0;
  let n = 0;
  for await (const b of batches) {
    if (n >= maxBatches) break;
    const rows = b.batch;
    sum += autoregressiveLossValue(model, b, { labelSmoothing }) * rows;
    weight += rows;
    n++;
  }
  if (n === 0) throw new Error('evaluate: the validation data yielded no batches; give data.val or a larger data.holdoutRows');
  const loss = sum / weight;
  return { loss, perplexity: Math.exp(loss), batches: n };
}
