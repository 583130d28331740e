// BERT's masking (Devlin et al. 2019): each position is chosen with probability `maskProb`; a chosen
// token becomes the mask token 80% of the time, a uniformly random token 10%, and stays itself 10%.
// The loss is taken on the chosen positions only. All draws come from the caller's seeded generator.
import type { Rng } from '../../runtime/rng.ts';
import type { GptInput } from '../model/gpt.ts';
import type { MaskedBatch } from './loss.ts';

export interface MaskingOptions {
  maskToken: number;
  /** random replacements are drawn from [0, vocabSize) */
  vocabSize: number;
  maskProb?: number;
  /** of the chosen positions: share replaced by the mask token, and by a random token */
  replaceMask?: number;
  replaceRandom?: number;
  /** token ids never chosen (e.g. end-of-text separators) */
  skip?: ReadonlySet<number>;
}

export function maskTokens(input: GptInput, rng: Rng, o: MaskingOptions): MaskedBatch {
  const maskProb = o.maskProb ?? 0.15;
  const toMask = o.replaceMask ?? 0.8;
  const toRandom = o.replaceRandom ?? 0.1;
  if (!(maskProb > 0 && maskProb <= 1)) throw new Error(`maskTokens: maskProb must be in (0, 1], got ${maskProb}`);
  if (toMask + toRandom > 1) throw new Error(`maskTokens: replaceMask + replaceRandom must be <= 1, got ${toMask + toRandom}`);
  const ids = input.ids.slice();
  const positions: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    const t = ids[i]!;
    if (o.skip?.has(t) || rng.next() >= maskProb) continue;
    positions.push(i);
    labels.push(t);
    const u = rng.next();
    if (u < toMask) ids[i] = o.maskToken;
    else if (u < toMask + toRandom) ids[i] = rng.below(o.vocabSize);
  }
  if (positions.length === 0) {
    // a batch with no target would have no loss: take one position so every step learns something
    const i = rng.below(ids.length);
    positions.push(i);
    labels.push(ids[i]!);
    ids[i] = o.maskToken;
  }
  return { input: { ...input, ids }, positions: Int32Array.from(positions), labels: Int32Array.from(labels) };
}
