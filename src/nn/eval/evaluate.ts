// Validation: the next-token cross-entropy of held-out micro-batches as what it measures, so numbers
// compare across runs and configs: plain negative log-likelihood (no label smoothing: that is a
// training regulariser, not the model's likelihood of the data), averaged over the
// target tokens (padding excluded; batches and rows weigh by the targets they hold, not one each),
// its perplexity exp(mean NLL), and, given each token id's UTF-8 byte length, bits per byte:
// sum NLL / ln 2 / bytes of the targets, which compares models with different tokenizers.
import type { Gpt } from '../model/gpt.ts';
import { autoregressiveLossValue, nextTokenTargets, type PackedBatch } from '../objective/loss.ts';

export interface EvalResult {
  /** mean NLL per target token, nats */
  loss: number;
  /** exp(loss) */
  perplexity: number;
  batches: number;
  /** target tokens scored (padding excluded) */
  tokens: number;
  /** total NLL / ln 2 / UTF-8 bytes of the targets; only when token byte lengths were given */
  bitsPerByte?: number;
}

/** The UTF-8 byte length of each token id: a table indexed by id, or a function of the id. */
export type TokenBytes = Int32Array | ((id: number) => number);

export interface EvalOptions {
  /** byte length of each token id (operators/tokenize/token-bytes.ts makes the table of an encoding) */
  tokenBytes?: TokenBytes;
}

function byteLength(tokenBytes: TokenBytes, id: number): number {
  if (typeof tokenBytes === 'function') return tokenBytes(id);
  if (id >= tokenBytes.length)
    throw new Error(
      `evaluate: token id ${id} has no byte length (the table covers ids 0..${tokenBytes.length - 1}); the ` +
        `validation data was tokenized with another encoding than the table's`,
    );
  return tokenBytes[id]!;
}

/** Sums of one batch: NLL over its targets, their weight (count) and bytes. */
function batchSums(
  model: Gpt,
  b: PackedBatch,
  tokenBytes: TokenBytes | undefined,
): { nll: number; tokens: number; bytes: number } {
  const { targets, weights } = nextTokenTargets(b);
  let tokens = 0;
  let bytes = 0;
  for (let i = 0; i < targets.length; i++) {
    const w = weights ? weights[i]! : 1;
    if (w === 0) continue;
    tokens += w;
    if (tokenBytes) bytes += w * byteLength(tokenBytes, targets[i]!);
  }
  // the head's loss is sum(w l) / sum(w): times sum(w) it is the batch's total NLL
  const nll = tokens > 0 ? autoregressiveLossValue(model, b) * tokens : 0;
  return { nll, tokens, bytes };
}

/** NLL, perplexity and (with `tokenBytes`) bits per byte over at most `maxBatches` micro-batches. */
export async function evaluate(
  model: Gpt,
  batches: AsyncIterable<PackedBatch>,
  maxBatches: number,
  o: EvalOptions = {},
): Promise<EvalResult> {
  let nll = 0;
  let tokens = 0;
  let bytes = 0;
  let n = 0;
  for await (const b of batches) {
    if (n >= maxBatches) break;
    const s = batchSums(model, b, o.tokenBytes);
    nll += s.nll;
    tokens += s.tokens;
    bytes += s.bytes;
    n++;
  }
  if (n === 0)
    throw new Error('evaluate: the validation data yielded no batches; give data.val or a larger data.holdoutRows');
  if (tokens === 0)
    throw new Error(
      `evaluate: the ${n} validation batches hold no target tokens (all padding); check the attention_mask of the ` +
        `validation data`,
    );
  const loss = nll / tokens;
  const r: EvalResult = { loss, perplexity: Math.exp(loss), batches: n, tokens };
  if (o.tokenBytes && bytes > 0) r.bitsPerByte = nll / Math.LN2 / bytes;
  return r;
}
