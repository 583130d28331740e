// A GPT-2-style byte-level BPE tokenizer.json (ByteLevel pre-tokenizer with GPT-2's pattern and no
// prefix space, no normalizer, BPE over the 256-byte alphabet) is the flowlm engine's case: tiktoken
// merges the adjacent pair whose concatenation has the lowest rank, Hugging Face the pair whose merge
// rule comes first; the two agree when the rank of a merge's result is its merge's position, so ids
// that grow with merge order serve as ranks. Files where they do not grow (or a merge result has two
// rules, or a token is no merge's result) take the general path.
import { pieceEndGpt2 } from '../engine/pretokenize-gpt2.ts';
import { FlowlmEngine } from '../engine/flowlm-engine.ts';
import { RankTable } from '../engine/rank-table.ts';
import { BYTE_ALPHABET, tokenBytes } from './byte-level.ts';
import type { Json } from './json.ts';

export function byteLevelFastPath(
  root: Json,
  model: Json,
  vocab: Map<string, number>,
  specials: ReadonlySet<string>,
  cacheEntries?: number,
): FlowlmEngine | undefined {
  if (root.normalizer !== null && root.normalizer !== undefined) return undefined;
  let pre = root.pre_tokenizer as Json | null | undefined;
  if (pre?.type === 'Sequence' && Array.isArray(pre.pretokenizers) && pre.pretokenizers.length === 1)
    pre = pre.pretokenizers[0] as Json;
  if (pre?.type !== 'ByteLevel' || pre.add_prefix_space !== false || pre.use_regex === false) return undefined;
  if (model.continuing_subword_prefix || model.end_of_word_suffix || model.byte_fallback) return undefined;
  if (!BYTE_ALPHABET.every((c) => vocab.has(c))) return undefined;
  const merges = model.merges as unknown[];
  const made = new Set<number>();
  let last = -1;
  for (const m of merges) {
    const [a, b] =
      typeof m === 'string' ? [m.slice(0, m.indexOf(' ', 1)), m.slice(m.indexOf(' ', 1) + 1)] : (m as string[]);
    const id = vocab.get(`${a}${b}`);
    if (id === undefined || id <= last || made.has(id)) return undefined;
    made.add(id);
    last = id;
  }
  const lines: string[] = [];
  for (const [token, id] of vocab) {
    if (specials.has(token)) continue;
    const bytes = tokenBytes(token);
    if (!bytes) return undefined;
    if (bytes.length > 1 && !made.has(id)) return undefined;
    lines.push(`! ${id} ${Buffer.from(bytes).toString('base64')}`);
  }
  const table = new RankTable(lines.join('\n'));
  // the encoding name only labels the engine; its scanner and ranks are these
  return new FlowlmEngine('gpt2', { cacheEntries }, { pieceEnd: pieceEndGpt2, table });
}
