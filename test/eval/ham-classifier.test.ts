// eval/ham-classifier: multinomial Naive Bayes with additive smoothing checked against probabilities worked
// out by hand on three documents; P(ham) finite and in [0, 1] for a 100 KB email (where the naive ratio of
// exponentials is 0/0); held-out accuracy on spam-zero-shot's 100 ham + 100 spam emails, full bodies and
// short excerpts like a generation; the training emails disjoint from the reward model's training pairs
// (as posttrain/spam-preference-pairs itself emits them) and from the held-out emails.
import { describe, expect, it } from 'vitest';
import {
  emailBody,
  hamClassifierReport,
  hamClassifierTrainIds,
  hamTokens,
  logAddExp,
  rewardTrainPairIds,
  trainHamClassifier,
  trainNaiveBayes,
} from '../../operators/eval/ham-classifier.ts';
import { SPAM_CONFIG } from '../../operators/eval/tasks/spam-zero-shot.ts';
import { heldOutIds, spamPreferencePairs } from '../../operators/posttrain/preference-pairs.ts';
import { hamIds } from '../../operators/posttrain/spam-sft.ts';
import { drain } from '../operators/ingest/helpers.ts';

/** The email ids of spam-preference-pairs' output for a config ("<ham id>|<spam id>" per pair). */
const pairEmailIds = async (config: Parameters<typeof spamPreferencePairs>[0]) => {
  const r = await drain(spamPreferencePairs, config ?? {});
  expect(r.error).toBeUndefined();
  return new Set(r.rows.flatMap((row) => String(row.id).split('|')));
};

describe('eval/ham-classifier: Naive Bayes by hand', () => {
  // Training texts: ham "a b a", ham "b c", spam "c c d". Vocabulary {a, b, c, d}, |V| = 4.
  // Ham counts a 2, b 2, c 1 (5 tokens); spam counts c 2, d 1 (3 tokens). Priors by documents: 2/3, 1/3.
  const docs = [
    { label: 'ham' as const, text: 'A b a' },
    { label: 'ham' as const, text: 'b, c' },
    { label: 'spam' as const, text: 'c C d' },
  ];

  it('α = 1 (Laplace): P(w|c) = (count + 1) / (tokens + 4)', () => {
    const clf = trainNaiveBayes(docs, { smoothing: 1, priors: 'train' });
    expect(clf.vocabularySize).toBe(4);
    // P(a|ham) = 3/9, P(c|ham) = 2/9; P(a|spam) = 1/7, P(c|spam) = 3/7; "z" is not in the vocabulary: skipped.
    // joint ham = 2/3 · 3/9 · 2/9 = 4/81; joint spam = 1/3 · 1/7 · 3/7 = 1/49
    const j = clf.logJoint('a c z');
    expect(j.ham).toBeCloseTo(Math.log(4 / 81), 12);
    expect(j.spam).toBeCloseTo(Math.log(1 / 49), 12);
    // P(ham) = (4/81) / (4/81 + 1/49) = 196 / 277
    expect(clf.pHam('a c z')).toBeCloseTo(196 / 277, 12);
    expect(clf.predict('a c z')).toBe('ham');
    // "d": ham 2/3 · 1/9 = 2/27, spam 1/3 · 2/7 = 2/21: spam, P(ham) = (2/27) / (2/27 + 2/21) = 21/48
    expect(clf.pHam('d')).toBeCloseTo(21 / 48, 12);
    expect(clf.predict('d')).toBe('spam');
    // no known word: the priors alone
    expect(clf.pHam('zzz')).toBeCloseTo(2 / 3, 12);
  });

  it('uniform priors and α = 0.5', () => {
    // uniform, α = 1: ham 1/2 · 3/9 · 2/9 = 1/27, spam 1/2 · 1/7 · 3/7 = 3/98; P(ham) = 98 / 179
    expect(trainNaiveBayes(docs, { smoothing: 1 }).pHam('a c')).toBeCloseTo(98 / 179, 12);
    // α = 0.5, |V|·α = 2: P(a|ham) = 2.5/7, P(c|ham) = 1.5/7, P(a|spam) = 0.5/5, P(c|spam) = 2.5/5
    // train priors: ham 2/3 · 5/14 · 3/14 = 5/98, spam 1/3 · 1/10 · 1/2 = 1/60; P(ham) = 300 / 398
    const clf = trainNaiveBayes(docs, { smoothing: 0.5, priors: 'train' });
    expect(clf.pHam('a c')).toBeCloseTo(300 / 398, 12);
    expect(clf.logJoint('a c').spam).toBeCloseTo(Math.log(1 / 60), 12);
  });

  it('tokens: lower-cased letter/digit runs with inner apostrophes; bad input rejected', () => {
    expect(hamTokens("Don't STOP—now, 42 times! Ünïcode 'quoted'")).toEqual([
      "don't",
      'stop',
      'now',
      '42',
      'times',
      'ünïcode',
      'quoted',
    ]);
    expect(() => trainNaiveBayes(docs, { smoothing: 0 })).toThrow(/smoothing must be > 0/);
    expect(() => trainNaiveBayes(docs.slice(0, 2))).toThrow(/both classes, got 2 ham and 0 spam/);
  });

  it('log-sum-exp stays finite where exponentials underflow', () => {
    expect(logAddExp(Math.log(0.25), Math.log(0.5))).toBeCloseTo(Math.log(0.75), 14);
    expect(logAddExp(-1e5, -1e5)).toBeCloseTo(-1e5 + Math.LN2, 9);
    expect(logAddExp(-Infinity, -3)).toBe(-3);
    expect(logAddExp(-Infinity, -Infinity)).toBe(-Infinity);
  });
});

describe('eval/ham-classifier on SpamAssassin', () => {
  const clf = trainHamClassifier();

  it('P(ham) of a 100 KB email is a number in [0, 1]', () => {
    const spamBody = emailBody(clf.trainIds.spam[0]!);
    const hamBody = emailBody(clf.trainIds.ham[0]!);
    const long = (s: string) => `${s} `.repeat(Math.ceil(100_000 / (s.length + 1)));
    for (const [text, label] of [
      [long(spamBody), 'spam'],
      [long(hamBody), 'ham'],
    ] as const) {
      expect(text.length).toBeGreaterThanOrEqual(100_000);
      const j = clf.logJoint(text);
      // both joints underflow: exp(h) / (exp(h) + exp(s)) would be 0 / 0
      expect(Math.exp(j.ham) + Math.exp(j.spam)).toBe(0);
      const p = clf.pHam(text);
      expect(Number.isNaN(p)).toBe(false);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
      expect(clf.predict(text)).toBe(label);
      // the same posterior written as a logistic of the log-odds, which never forms exp(joint)
      expect(p).toBeCloseTo(1 / (1 + Math.exp(j.spam - j.ham)), 12);
    }
    // the two 100 KB texts joined: the log-odds are the sum of theirs, finite, not ±Infinity or NaN
    const both = clf.logJoint(`${long(spamBody)} ${long(hamBody)}`);
    expect(Number.isFinite(both.ham - both.spam)).toBe(true);
  });

  it('held-out accuracy on full emails and short excerpts; training time', () => {
    const r = hamClassifierReport(clf);
    console.log('ham-classifier report', JSON.stringify(r));
    expect(r.n).toBe(200);
    expect(r.train).toEqual({ ham: clf.trainIds.ham.length, spam: clf.trainIds.spam.length });
    // measured: full 0.93, first ~100 characters 0.89, first 20 words 0.88 (chance 0.5)
    expect(r.full).toBeGreaterThan(0.9);
    expect(r.chars100).toBeGreaterThan(0.84);
    expect(r.words20).toBeGreaterThan(0.84);
    expect(r.meanPHam.ham).toBeGreaterThan(0.9);
    expect(r.meanPHam.spam).toBeLessThan(0.3);
    // measured 2-3.5 s with the emails read and parsed for the first time, 0.2-0.8 s once they are cached
    expect(r.trainMs).toBeGreaterThan(0);
    expect(r.trainMs).toBeLessThan(20_000);
    // the default α = 0.1 (chosen by cross-validation on the training emails) beats Laplace's α = 1 here too
    expect(r.full).toBeGreaterThan(hamClassifierReport(trainHamClassifier({ smoothing: 1 })).full);
  });

  it('deterministic: a second training gives the same probabilities', () => {
    const again = trainHamClassifier();
    expect(again.trainIds).toEqual(clf.trainIds);
    const text = emailBody(clf.trainIds.spam[3]!);
    expect(again.pHam(text)).toBe(clf.pHam(text));
  });

  it('trains on no email of the reward model training pairs nor of the held-out sets', async () => {
    const rmTrain = await pairEmailIds({ split: 'train' });
    const rmHeld = await pairEmailIds({ split: 'heldout' });
    expect(rmTrain.size).toBeGreaterThan(3000);
    // the recomputed pairing is exactly the source's
    expect(rewardTrainPairIds()).toEqual(rmTrain);
    const used = [...clf.trainIds.ham, ...clf.trainIds.spam];
    expect(used.filter((id) => rmTrain.has(id))).toEqual([]);
    const held = new Set([...heldOutIds('ham'), ...heldOutIds('spam')]);
    expect(used.filter((id) => held.has(id))).toEqual([]);
    // and the rest is used: the reward model's held-out pairs and every other email with a body
    expect([...rmHeld].filter((id) => !used.includes(id))).toEqual([]);
    const all = hamIds([...SPAM_CONFIG.hamGroups, ...SPAM_CONFIG.spamGroups]);
    const left = all.filter((id) => !rmTrain.has(id) && !held.has(id) && !used.includes(id));
    expect(left.every((id) => emailBody(id) === '')).toBe(true);
    // the labels are the folders'
    expect(clf.trainIds.ham.every((id) => /^(easy|hard)-ham-\d\//.test(id))).toBe(true);
    expect(clf.trainIds.spam.every((id) => /^spam-\d\//.test(id))).toBe(true);
  });

  it('another pair config and `exclude` move the split with them', async () => {
    const cfg = { seed: 7, heldoutEvery: 4 };
    const rmTrain = await pairEmailIds({ split: 'train', ...cfg });
    expect(rewardTrainPairIds(cfg)).toEqual(rmTrain);
    const extra = clf.trainIds.ham.slice(0, 5);
    const ids = hamClassifierTrainIds({ pairs: cfg, exclude: extra });
    const used = [...ids.ham, ...ids.spam];
    expect(used.filter((id) => rmTrain.has(id) || extra.includes(id))).toEqual([]);
    // every 4th pair held out instead of every 10th: more emails left for the classifier
    expect(ids.spam.length).toBeGreaterThan(clf.trainIds.spam.length);
  });
});
