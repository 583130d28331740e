// Preference pairs from real text for the pair-objective tests: after the same prompt, a ham email's
// body (chosen) and a spam email's body (rejected) from the SpamAssassin corpus (the spam-zero-shot
// task's balanced sample, ham and spam alternating), tokenized with gpt2, one row of 2 x (L + 1) tokens
// per pair: [chosen row | rejected row], each right-padded with attention_mask 1 on its response
// (body and EOS). The gpt2 ids that occur are renumbered densely (0 is padding), so a tiny model's
// output head stays small.
import { getEncoding } from 'js-tiktoken';
import { spamDocs } from '../../operators/eval/tasks/spam-zero-shot.ts';
import type { PackedBatch } from '../../src/nn/objective/loss.ts';

export const L = 24; // each half: L + 1 tokens
export const PAIRS = 40;
const gpt2 = getEncoding('gpt2');
const EOS = 50256;
const PROMPT = gpt2.encode('Write an email.\n');
export const docs = spamDocs();
const dense = new Map<number, number>([[-1, 0]]);
const idOf = (t: number) => {
  if (!dense.has(t)) dense.set(t, dense.size);
  return dense.get(t)!;
};

/** One half: prompt, then the body cut to fit and EOS; attention_mask 1 on the response targets. */
export function half(body: string): { ids: number[]; mask: number[] } {
  const response = [...gpt2.encode(` ${body}`).slice(0, L - PROMPT.length), EOS];
  const ids = [...PROMPT, ...response].map(idOf);
  const mask = ids.map((_, j) => (j >= PROMPT.length ? 1 : 0));
  while (ids.length < L + 1) {
    ids.push(0);
    mask.push(0);
  }
  return { ids, mask };
}

export const pairs = Array.from({ length: PAIRS }, (_, i) => {
  const [ham, spam] = [docs[2 * i]!, docs[2 * i + 1]!];
  if (ham.label !== 'ham' || spam.label !== 'spam') throw new Error(`spam-pairs: pair ${i} is not ham then spam`);
  const c = half(ham.body);
  const r = half(spam.body);
  return { ids: [...c.ids, ...r.ids], mask: [...c.mask, ...r.mask] };
});

/** the dense vocabulary's size */
export const V = dense.size;

export const batchOf = (rs: number[]): PackedBatch => ({
  inputIds: Int32Array.from(rs.flatMap((r) => pairs[r]!.ids)),
  attentionMask: Uint8Array.from(rs.flatMap((r) => pairs[r]!.mask)),
  batch: rs.length,
  seqLen: 2 * (L + 1) - 1,
});
