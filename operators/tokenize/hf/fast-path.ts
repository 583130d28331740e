// A GPT-2-style byte-level BPE tokenizer.json (ByteLevel pre-tokenizer with GPT-2's pattern and no
// prefix space, or a Split with cl100k's or o200k's pattern as Llama 3's and GPT-4o's files have; no
// normalizer; BPE over the 256-byte alphabet) is the flowlm engine's case: tiktoken
// merges the adjacent pair whose concatenation has the lowest rank, Hugging Face the pair whose merge
// rule comes first; the two agree when the rank of a merge's result is its merge's position, so ids
// that grow with merge order serve as ranks. Files where they do not grow (or a token is no merge's
// result) take the general path. A token with several rules (Llama 3's file lists every split of a
// token, in a row) is merged where tiktoken merges it, the leftmost place; HF could take a later
// place when two of its rules overlap in one piece, which the tests have not met.
import type { PieceEnd } from '../engine/encodings.ts';
import { pieceEndCl100k } from '../engine/pretokenize-cl100k.ts';
import { pieceEndGpt2 } from '../engine/pretokenize-gpt2.ts';
import { pieceEndO200k } from '../engine/pretokenize-o200k.ts';
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
  const pieceEnd = scannerOf(root.pre_tokenizer as Json | null | undefined);
  if (!pieceEnd) return undefined;
  if (model.continuing_subword_prefix || model.end_of_word_suffix || model.byte_fallback) return undefined;
  if (!BYTE_ALPHABET.every((c) => vocab.has(c))) return undefined;
  const merges = model.merges as unknown[];
  const made = new Set<number>();
  let last = -1;
  for (const m of merges) {
    const [a, b] =
      typeof m === 'string' ? [m.slice(0, m.indexOf(' ', 1)), m.slice(m.indexOf(' ', 1) + 1)] : (m as string[]);
    const id = vocab.get(`${a}${b}`);
    // a token may have several rules (every split of it, as converters from tiktoken write them), listed
    // together: its id may repeat, never go back
    if (id === undefined || id < last || (id !== last && made.has(id))) return undefined;
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
  return new FlowlmEngine('gpt2', { cacheEntries }, { pieceEnd, table });
}

// the Split patterns of byte-level files whose pieces the cl100k and o200k scanners cut exactly
// (Llama 3's is cl100k's, GPT-4o's is o200k's), as tokenizer.json files spell them
const CONTRACTION = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";
const UPPER = '[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]';
const LOWER = '[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]';
const TAIL = '\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n%s]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+';
export const CL100K_SPLIT = `${CONTRACTION}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|${TAIL.replace('%s', '')}`;
export const O200K_SPLIT =
  `[^\\r\\n\\p{L}\\p{N}]?${UPPER}*${LOWER}+${CONTRACTION}?|` +
  `[^\\r\\n\\p{L}\\p{N}]?${UPPER}+${LOWER}*${CONTRACTION}?|${TAIL.replace('%s', '/')}`;

/** The scanner that cuts the pieces `pre` cuts, if there is one: GPT-2's ByteLevel regex, or a Split
 * with cl100k's or o200k's pattern before a ByteLevel that only maps bytes. */
function scannerOf(pre: Json | null | undefined): PieceEnd | undefined {
  const steps = pre?.type === 'Sequence' && Array.isArray(pre.pretokenizers) ? (pre.pretokenizers as Json[]) : [pre];
  const byteLevel = steps[steps.length - 1];
  if (byteLevel?.type !== 'ByteLevel' || byteLevel.add_prefix_space !== false) return undefined;
  if (steps.length === 1) return byteLevel.use_regex === false ? undefined : pieceEndGpt2;
  const split = steps[0];
  if (steps.length !== 2 || byteLevel.use_regex !== false || split?.type !== 'Split') return undefined;
  // these patterns match every character, so keeping the matches (Removed, inverted: GPT-4o's file)
  // is isolating them
  const isolated = split.invert === true ? split.behavior === 'Removed' : split.behavior === 'Isolated';
  if (!isolated) return undefined;
  const regex = (split.pattern as Json | undefined)?.Regex;
  return regex === CL100K_SPLIT ? pieceEndCl100k : regex === O200K_SPLIT ? pieceEndO200k : undefined;
}
