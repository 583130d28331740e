// Perplexity on the held-out documents, scored whole (as lm-eval's wikitext task): each Moby-Dick chapter
// and State of the Union address of the held-out split is one loglikelihood_rolling request, the text
// cut into windows of the model's context by the harness. The metrics are ratios of sums over all
// documents (lm-eval's weighted_perplexity and bits_per_byte aggregations, lm_eval/api/metrics.py), so a
// long document weighs by its length, not as one item among others:
//   word_perplexity = exp(-Σ loglik / Σ words), byte_perplexity = exp(-Σ loglik / Σ bytes),
//   bits_per_byte = -Σ loglik / Σ bytes / ln 2.
// Words are counted as lm-eval counts them: len(re.split(r"\s+", text)), the pieces between runs of
// whitespace (a leading or trailing run adds an empty piece); bytes are UTF-8 bytes. Unlike perplexity
// per token, all three compare models with different tokenizers.
import { defineTask, type MetricItem } from '../../../src/eval/task.ts';
import { heldoutDocs, type HeldoutDoc } from './heldout.ts';

/** One document's item of every metric. */
export interface PerplexityItem {
  loglik: number;
  words: number;
  bytes: number;
}

/** lm-eval's count_words: the number of pieces re.split(r"\s+", text) gives. */
export function countWords(text: string): number {
  return text.split(/\s+/).length;
}

/** lm-eval's count_bytes: the UTF-8 length. */
export function countBytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function sums(items: readonly MetricItem[]): PerplexityItem {
  const s = { loglik: 0, words: 0, bytes: 0 };
  for (const it of items) {
    const { loglik, words, bytes } = it as PerplexityItem;
    if (!Number.isFinite(loglik) || !(words > 0) || !(bytes > 0))
      throw new Error(`heldout-perplexity: an item is not {loglik, words, bytes}: ${JSON.stringify(it)}`);
    s.loglik += loglik;
    s.words += words;
    s.bytes += bytes;
  }
  return s;
}

export const wordPerplexity = (items: readonly MetricItem[]) => {
  const s = sums(items);
  return Math.exp(-s.loglik / s.words);
};
export const bytePerplexity = (items: readonly MetricItem[]) => {
  const s = sums(items);
  return Math.exp(-s.loglik / s.bytes);
};
export const bitsPerByte = (items: readonly MetricItem[]) => {
  const s = sums(items);
  return -s.loglik / s.bytes / Math.LN2;
};

export default defineTask<HeldoutDoc>({
  name: 'heldout-perplexity',
  description:
    'Rolling log-likelihood of the held-out Moby-Dick chapters and State of the Union addresses (whole ' +
    'documents, longer than the context): how well the model predicts unseen text of its training ' +
    'distribution. word_perplexity, byte_perplexity and bits_per_byte as lm-eval’s wikitext; lower is ' +
    'better. No chance level; a uniform guess over 256 byte values would score 8 bits per byte.',
  metrics: {
    word_perplexity: { aggregate: wordPerplexity, higherIsBetter: false, stderr: 'bootstrap' },
    byte_perplexity: { aggregate: bytePerplexity, higherIsBetter: false, stderr: 'bootstrap' },
    bits_per_byte: { aggregate: bitsPerByte, higherIsBetter: false, stderr: 'bootstrap' },
  },
  docs: (limit) => (limit === undefined ? heldoutDocs() : heldoutDocs().slice(0, limit)),
  requests: (doc) => [{ kind: 'loglikelihood_rolling', text: doc.text }],
  process: (doc, results) => {
    const r = results[0];
    if (results.length !== 1 || r?.kind !== 'loglikelihood_rolling')
      throw new Error(`heldout-perplexity ${doc.id}: expected one loglikelihood_rolling result, got ${results.length}`);
    const item: PerplexityItem = { loglik: r.loglik, words: countWords(doc.text), bytes: countBytes(doc.text) };
    return { word_perplexity: item, byte_perplexity: item, bits_per_byte: item };
  },
  texts: (doc) => [doc.text],
  config: { split: 'heldout.ts: Moby-Dick chapters and SOTU years that are multiples of 20', words: 'split(/\\s+/)' },
});
