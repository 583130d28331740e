// The UTF-8 byte length of every token id of an encoding, for bits per byte (src/nn/eval/evaluate.ts):
// a BPE token is a byte string, so its length is that of its bytes in the engine's rank table, and
// the tokens of a text add up to exactly the text's UTF-8 bytes. Special tokens (<|endoftext|>...)
// stand for no text of the document, so they count 0 bytes (their NLL still counts, as it does in
// the loss). Ids the encoding does not use count 0 as well.
import { ENCODING, ENCODINGS, rankTable, ranksData, type EncodingName } from './engine/encodings.ts';

const tables = new Map<EncodingName, Int32Array>();

/** The engine's name of an encoding given by it (gpt2, cl100k...) or by tiktoken's (cl100k_base...). */
export function encodingNameOf(encoding: string): EncodingName {
  const name = ENCODINGS.find((e) => e === encoding || ENCODING[e].tiktoken === encoding);
  if (!name)
    throw new Error(
      `token bytes: unknown encoding "${encoding}"; use one of ${ENCODINGS.join(', ')} (or tiktoken's names ${ENCODINGS.map((e) => ENCODING[e].tiktoken).join(', ')})`,
    );
  return name;
}

/** Byte length of every token id of `encoding`, indexed by id (built once per thread, then shared:
 * do not write to it). */
export function tokenByteLengths(encoding: string): Int32Array {
  const name = encodingNameOf(encoding);
  let t = tables.get(name);
  if (t) return t;
  const ranks = rankTable(name);
  const specials = Object.values(ranksData(name).special_tokens);
  t = new Int32Array(Math.max(ranks.size, ...specials.map((id) => id + 1)));
  for (let id = 0; id < ranks.size; id++) t[id] = ranks.bytesOf(id)?.length ?? 0;
  for (const id of specials) t[id] = 0;
  tables.set(name, t);
  return t;
}

/** The table of `encoding`, or undefined when the name is not one of the engine's (a metric that
 * needs it is then left out rather than failing the run). */
export function tokenBytesFor(encoding: string): Int32Array | undefined {
  return ENCODINGS.some((e) => e === encoding || ENCODING[e].tiktoken === encoding)
    ? tokenByteLengths(encoding)
    : undefined;
}
