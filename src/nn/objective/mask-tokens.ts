// BERT's masking (Devlin et al. 2019): each position is chosen with probability `maskProb`; a chosen
// token becomes the mask token 80% of the time, a uniformly random token 10%, and stays itself 10%.
// The loss is taken on the chosen positions only. All draws come from the caller's seeded generator.
// Padding is never chosen (maskedBatchOf passes the attention mask as `exclude`).
import type { Rng } from '../../runtime/rng.ts';
import type { GptInput } from '../model/gpt.ts';
import { inputsOf, type MaskedBatch, type PackedBatch } from './loss.ts';

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
  /** per position of the input ([batch * seqLen]), nonzero: never chosen (padding) */
  exclude?: ArrayLike<number>;
}

export function maskTokens(input: GptInput, rng: Rng, o: MaskingOptions): MaskedBatch {
  const maskProb = o.maskProb ?? 0.15;
  const toMask = o.replaceMask ?? 0.8;
  const toRandom = o.replaceRandom ?? 0.1;
  if (!(maskProb > 0 && maskProb <= 1)) throw new Error(`maskTokens: maskProb must be in (0, 1], got ${maskProb}`);
  if (toMask + toRandom > 1)
    throw new Error(`maskTokens: replaceMask + replaceRandom must be <= 1, got ${toMask + toRandom}`);
  const ids = input.ids.slice();
  const ex = o.exclude;
  if (ex && ex.length !== ids.length)
    throw new Error(
      `maskTokens: exclude has ${ex.length} flags for ${ids.length} positions; give one per input position`,
    );
  const positions: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    const t = ids[i]!;
    if (ex?.[i] || o.skip?.has(t) || rng.next() >= maskProb) continue;
    positions.push(i);
    labels.push(t);
    const u = rng.next();
    if (u < toMask) ids[i] = o.maskToken;
    else if (u < toMask + toRandom) ids[i] = rng.below(o.vocabSize);
  }
  if (positions.length === 0) {
    // a batch with no target would have no loss: take one position so every step learns something
    const open = ex ? Array.from({ length: ids.length }, (_, k) => k).filter((k) => !ex[k]) : undefined;
    if (open?.length === 0)
      throw new Error('maskTokens: every position is excluded (all padding); the batch has no token to learn from');
    const i = open ? open[rng.below(open.length)]! : rng.below(ids.length);
    positions.push(i);
    labels.push(ids[i]!);
    ids[i] = o.maskToken;
  }
  return { input: { ...input, ids }, positions: Int32Array.from(positions), labels: Int32Array.from(labels) };
}

/** A packed batch's inputs (row[0..seqLen-1]) masked for the masked-LM objective; padding (the
 * attention mask's 0s) is never chosen. */
export function maskedBatchOf(b: PackedBatch, rng: Rng, o: MaskingOptions): MaskedBatch {
  const input = inputsOf(b);
  let exclude: Uint8Array | undefined;
  if (b.attentionMask) {
    const { batch, seqLen } = b;
    exclude = new Uint8Array(batch * seqLen);
    for (let r = 0; r < batch; r++)
      for (let i = 0; i < seqLen; i++) exclude[r * seqLen + i] = b.attentionMask[r * (seqLen + 1) + i] ? 0 : 1;
  }
  return maskTokens(input, rng, exclude ? { ...o, exclude } : o);
}
