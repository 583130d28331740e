// A LAMBADA-style last-word cloze over the held-out Moby-Dick chapters and State of the Union addresses.
// LAMBADA (Paperno et al. 2016) keeps passages whose last word humans guess from the whole passage but
// not from the last sentence alone; without annotators, the proxy here is the same in spirit: the last
// word is a content word (>= 4 letters, not a function word) that already appeared earlier in the passage,
// so the context makes it predictable. Requests and metrics follow lm-eval's lambada tasks: context = the
// passage without its last word, continuation = " " + word (the space goes with the continuation; the
// final punctuation is dropped); acc = the word is the model's greedy continuation, perplexity =
// exp(-mean log-likelihood of the word).
import { stableId } from '../../../src/runtime/files.ts';
import { defineTask } from '../../../src/eval/task.ts';
import { heldoutDocs } from './heldout.ts';

export interface ClozeDoc {
  /** `<held-out doc id>#<index of the passage's first sentence>` */
  id: string;
  /** the held-out document it comes from */
  source: string;
  /** the passage without its last word (and without the space before it) */
  context: string;
  /** the last word, without punctuation */
  word: string;
}

/** The settings that change which passages there are. */
export const CLOZE_CONFIG = {
  minSentences: 3,
  maxSentences: 5,
  minWordLetters: 4,
  maxPassageChars: 1200,
  maxDocs: 400,
  split: 'heldout.ts: Moby-Dick chapters and SOTU years that are multiples of 20',
} as const;

// Function words of >= 4 letters: guessing them is grammar, not following the passage.
const FUNCTION_WORDS = new Set(
  (
    'about above after again against also although among another because been before being below between both ' +
    'came come could does doing done down during each either else even ever every from further have having ' +
    'here hers herself himself however into itself just less made make many might more most much must myself ' +
    'neither never none once only other ought ours ourselves over same shall should since some still such ' +
    'than that their theirs them themselves then there therefore these they this those though through thus ' +
    'till under unless until upon very were what whatever when where whether which while whom whose will with ' +
    'within without would your yours yourself yourselves said like well'
  ).split(' '),
);

/** Sentences of a text: split after . ! ? (and closing quotes) before an upper-case or quoted start. */
export function sentences(text: string): string[] {
  return text
    .split(/\n\s*\n/)
    .flatMap((para) =>
      para
        .replace(/\s+/g, ' ')
        .trim()
        .split(/(?<=[.!?]['"’”)]*)\s+(?=['"‘“(]*[A-Z])/),
    )
    .filter((s) => s.length > 0);
}

/** The passage's last word and where it starts, when it is a cloze target: a letters-only content word
 * of >= minWordLetters letters that also occurs earlier in the passage (as a whole word, any case). */
export function clozeTarget(
  passage: string,
  minLetters: number = CLOZE_CONFIG.minWordLetters,
): { word: string; at: number } | undefined {
  const m = /([A-Za-z]+)['"’”)\].,;:!?\u2014-]*$/.exec(passage);
  if (!m || m.index === 0) return undefined;
  const word = m[1]!;
  // the word must start a token: "whale's" or "ten-pound" end in a fragment, not a word
  if (!/\s/.test(passage[m.index - 1]!)) return undefined;
  if (word.length < minLetters || FUNCTION_WORDS.has(word.toLowerCase())) return undefined;
  const before = passage.slice(0, m.index);
  if (!new RegExp(`(^|[^A-Za-z])${word}([^A-Za-z]|$)`, 'i').test(before)) return undefined;
  return { word, at: m.index };
}

/** The passages of one document: walk its sentences; at each start take the shortest run of
 * minSentences..maxSentences sentences whose last word is a cloze target, then continue after it. */
export function clozePassages(source: string, text: string): ClozeDoc[] {
  const { minSentences, maxSentences, maxPassageChars } = CLOZE_CONFIG;
  // a Moby-Dick chapter's first line is its heading ("CHAPTER 20. Nantucket.")
  const body = source.startsWith('moby-dick/') ? text.replace(/^CHAPTER[^\n]*\n/, '') : text;
  const sents = sentences(body);
  const out: ClozeDoc[] = [];
  for (let start = 0; start + minSentences <= sents.length; ) {
    let taken = 0;
    for (let k = minSentences; k <= maxSentences && start + k <= sents.length; k++) {
      const passage = sents.slice(start, start + k).join(' ');
      if (passage.length > maxPassageChars) break;
      const t = clozeTarget(passage);
      if (t) {
        out.push({ id: `${source}#${start}`, source, context: passage.slice(0, t.at).trimEnd(), word: t.word });
        taken = k;
        break;
      }
    }
    start += taken > 0 ? taken : 1;
  }
  return out;
}

const order = (id: string) => stableId(`lambada-moby-sotu:${id}`);
let all: readonly ClozeDoc[] | undefined;

/** Every passage of the held-out documents, in a fixed pseudo-random order (a hash of the id), so that
 * any prefix mixes both sources; at most maxDocs of them. */
export function clozeDocs(): readonly ClozeDoc[] {
  all ??= Object.freeze(
    heldoutDocs()
      .flatMap((d) => clozePassages(d.id, d.text))
      .map((d) => ({ d, key: order(d.id) }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .slice(0, CLOZE_CONFIG.maxDocs)
      .map(({ d }) => d),
  );
  return all;
}

export default defineTask<ClozeDoc>({
  name: 'lambada-moby-sotu',
  description:
    'Last-word cloze (LAMBADA-style) on held-out Moby-Dick chapters and State of the Union addresses: ' +
    'predict a passage-final content word that already occurred in the passage; measures use of long ' +
    'context. acc = the word is the greedy continuation (chance ≈ 0: open vocabulary); perplexity = ' +
    'exp(-mean log-likelihood of the word).',
  metrics: {
    acc: { aggregate: 'mean', higherIsBetter: true, chance: 0 },
    perplexity: {
      aggregate: (items) => Math.exp(-items.reduce((a: number, x) => a + Number(x), 0) / items.length),
      higherIsBetter: false,
      stderr: 'bootstrap',
    },
  },
  docs: (limit) => (limit === undefined ? clozeDocs() : clozeDocs().slice(0, limit)),
  requests: (doc) => [{ kind: 'loglikelihood', context: doc.context, continuation: ` ${doc.word}` }],
  process: (doc, results) => {
    const r = results[0];
    if (results.length !== 1 || r?.kind !== 'loglikelihood')
      throw new Error(`lambada-moby-sotu ${doc.id}: expected one loglikelihood result, got ${results.length}`);
    return { acc: r.greedy ? 1 : 0, perplexity: r.loglik };
  },
  // the passage with its answer: a training text that contains it has seen the answer
  texts: (doc) => [`${doc.context} ${doc.word}`],
  config: CLOZE_CONFIG,
});
