// Validation of a masked LM: the mean NLL per masked token (plain, no label smoothing, as for the
// causal objective in evaluate.ts) and its perplexity. Validation batch n is masked with a generator
// derived from (seed, n) alone, so every evaluation of a run scores the same positions with the same
// corruptions and the losses compare from step to step; a random mask per evaluation would add noise
// of its own to every number.
import { createHash } from 'node:crypto';
import { Rng } from '../../runtime/rng.ts';
import type { Gpt } from '../model/gpt.ts';
import { maskedLmLossValue, type PackedBatch } from '../objective/loss.ts';
import { maskedBatchOf, type MaskingOptions } from '../objective/mask-tokens.ts';
import type { EvalResult } from './evaluate.ts';

/** The generator that masks validation batch `index` of a run with seed `seed`: the same at every
 * evaluation, and unrelated to the training steps' generators (their key has no "eval"). */
export function evalMaskRng(seed: number, index: number): Rng {
  const h = createHash('sha256').update(`${seed}/eval-masks/${index}`).digest();
  return new Rng(h.readUIntBE(0, 6));
}

/** Masked-LM NLL over at most `maxBatches` validation batches, weighted by the masked tokens. */
export async function evaluateMasked(
  model: Gpt,
  batches: AsyncIterable<PackedBatch>,
  maxBatches: number,
  masking: MaskingOptions,
  seed: number,
): Promise<EvalResult> {
  let nll = 0;
  let tokens = 0;
  let n = 0;
  for await (const b of batches) {
    if (n >= maxBatches) break;
    const masked = maskedBatchOf(b, evalMaskRng(seed, n), masking);
    // the loss is the mean over the masked positions: times their count it is the batch's total NLL
    nll += maskedLmLossValue(model, masked) * masked.positions.length;
    tokens += masked.positions.length;
    n++;
  }
  if (n === 0)
    throw new Error('evaluate: the validation data yielded no batches; give data.val or a larger data.holdoutRows');
  const loss = nll / tokens;
  const r = { loss, perplexity: Math.exp(loss), batches: n, tokens };
  return r;
}
