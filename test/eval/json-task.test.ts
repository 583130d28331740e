// Tasks as JSON data (operators/eval/json-task.ts): every kind, inline and from a docsFile, every field
// changing what the task does, and errors that name the file and the bad field's path. Results are made
// by hand; expected numbers are computed by hand from the definitions (lm-eval's multiple_choice,
// lambada and wikitext scoring; ROUGE-N/L as rouge-score defines them; BLEU of a hypothesis equal to its
// reference is 100 in sacrebleu) or, for BLEU and chrF of other texts, from the metric functions that
// test/eval/bleu.test.ts and chrf.test.ts check against sacrebleu.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EvalResult, LoglikelihoodResult, MetricSpec, Task } from '../../src/eval/task.ts';
import { loadTasks } from '../../src/eval/registry.ts';
import { jsonTask } from '../../operators/eval/json-task.ts';
import { corpusBleu } from '../../operators/eval/metrics/bleu.ts';
import { corpusChrf } from '../../operators/eval/metrics/chrf.ts';
import { heldoutSotu } from '../../operators/eval/tasks/heldout.ts';

const FILE = '/data/tasks/t.json';
const ll = (loglik: number, greedy = false): LoglikelihoodResult => ({
  kind: 'loglikelihood',
  loglik,
  greedy,
  tokens: 1,
});
const gen = (text: string): EvalResult => ({ kind: 'generate_until', text });
const agg = (spec: MetricSpec | undefined, items: unknown[]) => {
  if (!spec || typeof spec.aggregate !== 'function') throw new Error('expected a function aggregate');
  return spec.aggregate(items);
};
const mcDocs = [
  { context: 'Q1', choices: ['a', 'abcdefgh'], gold: 1 },
  { context: 'Q2', choices: ['x', 'y', 'z'], gold: 0 },
];
const mc = (extra: Record<string, unknown> = {}) =>
  jsonTask({ name: 'mc', description: 'Pick one.', kind: 'multiple_choice', docs: mcDocs, ...extra }, FILE);
const genTask = (extra: Record<string, unknown> = {}, docs: unknown[] = [{ context: 'C', reference: 'R' }]) =>
  jsonTask({ name: 'g', description: 'Continue.', kind: 'generation', docs, ...extra }, FILE);

const dir = mkdtempSync(join(tmpdir(), 'flowlm-json-task-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('multiple_choice', () => {
  it('name, description, docs and limit', async () => {
    const t = mc();
    expect(t.name).toBe('mc');
    expect(t.description.startsWith('Pick one.')).toBe(true);
    expect(await t.docs()).toEqual(mcDocs);
    expect(await t.docs(1)).toEqual([mcDocs[0]]);
    expect(Object.keys(t.metrics)).toEqual(['acc', 'acc_norm', 'ece']);
  });

  it('one request per choice after the target delimiter (default one space)', async () => {
    const [d0] = await mc().docs();
    expect(mc().requests(d0)).toEqual([
      { kind: 'loglikelihood', context: 'Q1', continuation: ' a' },
      { kind: 'loglikelihood', context: 'Q1', continuation: ' abcdefgh' },
    ]);
    const bare = mc({ targetDelimiter: '' });
    expect(bare.requests(d0).map((r) => (r.kind === 'loglikelihood' ? r.continuation : ''))).toEqual(['a', 'abcdefgh']);
    expect(mc().texts(d0)).toEqual(['Q1 abcdefgh']);
  });

  it('acc, acc_norm (per character, delimiter included), ece, from hand-made log-likelihoods', async () => {
    const t = mc();
    const [d0, d1] = await t.docs();
    // " a" (2 chars) -2 vs " abcdefgh" (9 chars) -3: raw argmax 0 (wrong); per char -1 < -0.33: 1 (gold)
    const out = t.process(d0, [ll(-2), ll(-3)]);
    expect([out.acc, out.acc_norm]).toEqual([0, 1]);
    expect(out.ece).toEqual({ confidence: expect.closeTo(1 / (1 + Math.exp(-1)), 12), correct: false });
    // -1 and -6: per char with the delimiter -1/2 > -6/9 (choice 0), without it -1/1 < -6/8 (the gold)
    expect(mc().process(d0, [ll(-1), ll(-6)]).acc_norm).toBe(0);
    expect(mc({ targetDelimiter: '' }).process(d0, [ll(-1), ll(-6)]).acc_norm).toBe(1);
    expect(t.process(d1, [ll(-1), ll(-2), ll(-3)]).acc).toBe(1);
  });

  it('chance: 1/k for equal choice counts, mean 1/k when they vary, or as the data states', () => {
    expect(mc().metrics.acc!.chance).toBeCloseTo((1 / 2 + 1 / 3) / 2, 12);
    const two = jsonTask(
      { name: 'mc2', description: 'd', kind: 'multiple_choice', docs: [mcDocs[0], { ...mcDocs[0], gold: 0 }] },
      FILE,
    );
    expect(two.metrics.acc!.chance).toBe(0.5);
    const stated = mc({ chance: { acc: 0.3, acc_norm: 0.2 } });
    expect([stated.metrics.acc!.chance, stated.metrics.acc_norm!.chance]).toEqual([0.3, 0.2]);
  });
});

describe('cloze', () => {
  const docs = [
    { context: 'The whale', target: 'spouted', id: 'moby#1' },
    { context: 'A ship', target: 'sailed' },
  ];
  const t = jsonTask({ name: 'cz', description: 'Cloze.', kind: 'cloze', docs, chance: { acc: 0 } }, FILE);

  it('the target after the delimiter; acc = greedy; perplexity = exp(-mean loglik)', async () => {
    const [d0, d1] = await t.docs();
    expect(t.requests(d0)).toEqual([{ kind: 'loglikelihood', context: 'The whale', continuation: ' spouted' }]);
    expect(t.process(d0, [ll(-1, true)])).toEqual({ acc: 1, perplexity: -1 });
    expect(t.process(d1, [ll(-3)])).toEqual({ acc: 0, perplexity: -3 });
    expect(agg(t.metrics.perplexity, [-1, -3])).toBeCloseTo(Math.exp(2), 12);
    expect(t.metrics.acc!.chance).toBe(0);
    expect(t.texts(d0)).toEqual(['The whale spouted']);
    const tight = jsonTask({ name: 'cz', description: 'd', kind: 'cloze', docs, targetDelimiter: '' }, FILE);
    expect(tight.requests(d0)).toEqual([{ kind: 'loglikelihood', context: 'The whale', continuation: 'spouted' }]);
  });

  it('a malformed result names the document by its id, else its index', async () => {
    const [d0, d1] = await t.docs();
    expect(() => t.process(d0, [])).toThrow(
      /task cz \(\/data\/tasks\/t\.json\) doc moby#1: expected one loglikelihood/,
    );
    expect(() => t.process(d1, [gen('x')])).toThrow(/doc 1: expected one loglikelihood/);
  });
});

describe('perplexity', () => {
  it('one rolling request per text; word/byte perplexity and bits per byte as ratios of sums', async () => {
    const t = jsonTask({ name: 'px', description: 'P.', kind: 'perplexity', docs: [{ text: 'a b\nc' }] }, FILE);
    const [d] = await t.docs();
    expect(t.requests(d)).toEqual([{ kind: 'loglikelihood_rolling', text: 'a b\nc' }]);
    const item = t.process(d, [{ kind: 'loglikelihood_rolling', loglik: -6, tokens: 3 }]);
    // 'a b\nc': 3 words (re.split(r"\s+")), 5 bytes
    expect(item.word_perplexity).toEqual({ loglik: -6, words: 3, bytes: 5 });
    const items = [item.word_perplexity, { loglik: -4, words: 2, bytes: 5 }];
    expect(agg(t.metrics.word_perplexity, items)).toBeCloseTo(Math.exp(10 / 5), 12);
    expect(agg(t.metrics.byte_perplexity, items)).toBeCloseTo(Math.exp(10 / 10), 12);
    expect(agg(t.metrics.bits_per_byte, items)).toBeCloseTo(1 / Math.LN2, 12);
  });
});

describe('generation', () => {
  it('generate_until with the default stop and length, the task-level ones, and per-document ones', async () => {
    const docs = [
      { context: 'C', reference: 'R' },
      { context: 'D', reference: 'S', until: ['.'], maxTokens: 5 },
    ];
    const t = genTask({}, docs);
    const [d0, d1] = await t.docs();
    expect(t.requests(d0)).toEqual([{ kind: 'generate_until', context: 'C', until: ['\n\n'], maxTokens: 32 }]);
    expect(t.requests(d1)).toEqual([{ kind: 'generate_until', context: 'D', until: ['.'], maxTokens: 5 }]);
    const set = genTask({ until: ['\n', 'Q:'], maxTokens: 64 }, docs);
    expect(set.requests(d0)).toEqual([{ kind: 'generate_until', context: 'C', until: ['\n', 'Q:'], maxTokens: 64 }]);
    expect(set.requests(d1)).toEqual([{ kind: 'generate_until', context: 'D', until: ['.'], maxTokens: 5 }]);
    expect(set.config).not.toEqual(t.config);
  });

  it('ROUGE f-measures by hand, BLEU and chrF pairs aggregated over the corpus', async () => {
    const t = genTask({}, [{ context: 'C', reference: 'the cat ran' }]);
    const [d] = await t.docs();
    const out = t.process(d, [gen(' the cat sat')]);
    // unigrams 2 of 3 both ways: 2/3; bigrams "the cat" 1 of 2: 1/2; LCS "the cat" 2: 2/3
    expect(out.rouge1).toBeCloseTo(2 / 3, 12);
    expect(out.rouge2).toBeCloseTo(1 / 2, 12);
    expect(out.rougeL).toBeCloseTo(2 / 3, 12);
    expect(out.rougeLsum).toBeCloseTo(2 / 3, 12);
    expect(out.bleu).toEqual([' the cat sat', 'the cat ran']);
    expect(out.chrf).toEqual([' the cat sat', 'the cat ran']);
    const same = 'the whale rose from the sea';
    expect(agg(t.metrics.bleu, [[same, same]])).toBeCloseTo(100, 10);
    expect(agg(t.metrics.chrf, [[same, same]])).toBeCloseTo(100, 10);
    const items = [
      ['the whale rose from the sea', 'the whale rose out of the sea'],
      ['a ship sailed on', 'the ship sailed on'],
    ];
    // corpus-level, not the mean of sentence scores
    const hyps = items.map((p) => p[0]!);
    const refs = items.map((p) => p[1]!);
    expect(agg(t.metrics.bleu, items)).toBe(corpusBleu(hyps, [refs]).score);
    expect(agg(t.metrics.chrf, items)).toBe(corpusChrf(hyps, [refs]).score);
    expect(() => agg(t.metrics.bleu, ['x'])).toThrow(/bleu: item 0 is "x", not a \[hypothesis, reference\] pair/);
  });

  it('useStemmer: Porter stems make "running dogs" match "run dog"', async () => {
    const docs = [{ context: 'C', reference: 'run dog' }];
    const [d] = await genTask({}, docs).docs();
    expect(genTask({}, docs).process(d, [gen('running dogs')]).rouge1).toBe(0);
    expect(genTask({ useStemmer: true }, docs).process(d, [gen('running dogs')]).rouge1).toBe(1);
  });
});

describe('docsFile', () => {
  it('one document a line, relative to the task file, blank lines skipped; through the registry too', async () => {
    mkdirSync(join(dir, 'tasks', 'data'), { recursive: true });
    const lines = [JSON.stringify(mcDocs[0]), '', JSON.stringify(mcDocs[1]), ''];
    writeFileSync(join(dir, 'tasks', 'data', 'mc.jsonl'), lines.join('\n'));
    const spec = { name: 'mc-file', description: 'd', kind: 'multiple_choice', docsFile: 'data/mc.jsonl' };
    const file = join(dir, 'tasks', 'mc-file.json');
    writeFileSync(file, JSON.stringify(spec));
    expect(await jsonTask(spec, file).docs()).toEqual(mcDocs);
    const [t] = (await loadTasks([file])) as [Task];
    expect(t.name).toBe('mc-file');
    expect(await t.docs(1)).toEqual([mcDocs[0]]);
    // other documents, another config hash
    expect(t.config).not.toEqual(jsonTask({ ...spec, docsFile: undefined, docs: [mcDocs[0]] }, file).config);
    expect(jsonTask({ ...spec, docsFile: undefined, docs: mcDocs }, file).config).toEqual(t.config);
  });

  it('errors name the task file, the docs file, the line and the field', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(join(dir, 'bad.jsonl'), `{"text": "ok"}\n{"text": "ok", "txt": 1}\n`);
    const spec = { name: 'b', description: 'd', kind: 'perplexity', docsFile: 'bad.jsonl' };
    expect(() => jsonTask(spec, file)).toThrow(
      `task file ${file}: docsFile bad.jsonl line 2: (top level): Unrecognized key: "txt"`,
    );
    writeFileSync(join(dir, 'bad2.jsonl'), '{"text": 3}\n');
    expect(() => jsonTask({ ...spec, docsFile: 'bad2.jsonl' }, file)).toThrow(/docsFile bad2\.jsonl line 1: text: /);
    writeFileSync(join(dir, 'bad3.jsonl'), '{"text": "a"\n');
    expect(() => jsonTask({ ...spec, docsFile: 'bad3.jsonl' }, file)).toThrow(/line 1: not valid JSON/);
    writeFileSync(join(dir, 'empty.jsonl'), '\n\n');
    expect(() => jsonTask({ ...spec, docsFile: 'empty.jsonl' }, file)).toThrow(/has no documents/);
    expect(() => jsonTask({ ...spec, docsFile: 'nope.jsonl' }, file)).toThrow(
      `${join(dir, 'nope.jsonl')} does not exist`,
    );
  });
});

describe('every kind', () => {
  const two: Record<string, unknown[]> = {
    multiple_choice: mcDocs,
    cloze: [
      { context: 'a', target: 'b' },
      { context: 'c', target: 'd' },
    ],
    perplexity: [{ text: 'a' }, { text: 'b' }],
    generation: [
      { context: 'a', reference: 'b' },
      { context: 'c', reference: 'd' },
    ],
  };
  for (const [kind, docs] of Object.entries(two)) {
    it(`${kind}: name, description, docs and limit`, async () => {
      const t = jsonTask({ name: `k-${kind}`, description: `About ${kind}.`, kind, docs }, FILE);
      expect(t.name).toBe(`k-${kind}`);
      expect(t.description.startsWith(`About ${kind}.`)).toBe(true);
      expect(await t.docs()).toEqual(docs);
      expect(await t.docs(1)).toEqual([docs[0]]);
      for (const d of await t.docs()) expect(t.texts(d).every((x) => x.length > 0)).toBe(true);
    });
  }
});

describe('validation', () => {
  const bad = (data: unknown) => () => jsonTask(data, FILE);
  const ok = { name: 'v', description: 'd', kind: 'cloze', docs: [{ context: 'a', target: 'b' }] };

  it('an unknown or missing kind', () => {
    expect(bad({ ...ok, kind: 'essay' })).toThrow(
      `task file ${FILE}: kind: "essay" is not a task kind; use one of multiple_choice, cloze, perplexity, generation`,
    );
    expect(bad({ ...ok, kind: undefined })).toThrow(`task file ${FILE}: kind: undefined is not a task kind`);
    expect(bad([ok])).toThrow(`task file ${FILE}: (top level)`);
  });

  it('the path of a bad field', () => {
    expect(bad({ ...ok, name: 'Bad Name' })).toThrow(`task file ${FILE}: name: use lower-case`);
    expect(bad({ ...ok, description: '' })).toThrow(`task file ${FILE}: description:`);
    expect(bad({ ...ok, docs: [{ context: 'a', target: 'b' }, { context: 'a' }] })).toThrow(`${FILE}: docs[1].target:`);
    expect(bad({ ...ok, docs: [] })).toThrow(`${FILE}: docs:`);
    const mcBad = { ...ok, kind: 'multiple_choice', docs: [mcDocs[0], { context: 'c', choices: ['a', 'b'], gold: 2 }] };
    expect(bad(mcBad)).toThrow(`${FILE}: docs[1].gold: 2 is not an index of the 2 choices`);
    expect(bad({ ...mcBad, docs: [{ context: 'c', choices: ['a', ''], gold: 0 }] })).toThrow(
      `${FILE}: docs[0].choices[1]: a choice is empty`,
    );
    expect(bad({ ...ok, kind: 'generation', docs: [{ context: 'c', reference: 'r', maxTokens: 0 }] })).toThrow(
      `${FILE}: docs[0].maxTokens:`,
    );
    expect(bad({ ...ok, kind: 'generation', docs: [{ context: 'c', reference: 'r' }], useStemmer: 'yes' })).toThrow(
      `${FILE}: useStemmer:`,
    );
  });

  it('unknown keys (a misspelt field), a field of another kind, a chance of no metric', () => {
    expect(bad({ ...ok, docs: [{ context: 'a', target: 'b', traget: 'c' }] })).toThrow(
      `${FILE}: docs[0]: Unrecognized key: "traget"`,
    );
    expect(bad({ ...ok, useStemmer: true })).toThrow(`${FILE}: (top level): Unrecognized key: "useStemmer"`);
    expect(bad({ ...ok, chance: { bleu: 1 } })).toThrow(`${FILE}: chance:`);
    expect(bad({ ...ok, chance: { acc: -1 } })).toThrow(`${FILE}: chance.acc:`);
  });

  it('docs or docsFile, exactly one', () => {
    expect(bad({ ...ok, docs: undefined })).toThrow(`task file ${FILE}: docs, docsFile: give exactly one`);
    expect(bad({ ...ok, docsFile: 'x.jsonl' })).toThrow(`task file ${FILE}: docs, docsFile: give exactly one`);
  });
});

describe('example-definitions.json (shipped)', () => {
  it('20 last-word cloze items, each a sentence of the held-out address its id names', async () => {
    const [t] = (await loadTasks(['example-definitions'])) as [Task];
    expect(t.name).toBe('example-definitions');
    const docs = (await t.docs()) as { id: string; context: string; target: string }[];
    expect(docs.length).toBe(20);
    const texts = new Map(heldoutSotu().map((d) => [d.id, d.text.replace(/\s+/g, ' ')]));
    for (const d of docs) {
      expect(d.target).toMatch(/^[A-Za-z]{6,}$/);
      const words = `${d.context} ${d.target}`.split(' ').length;
      expect(words).toBeGreaterThanOrEqual(15);
      expect(words).toBeLessThanOrEqual(35);
      const text = texts.get(d.id) ?? '';
      const at = text.indexOf(`${d.context} ${d.target}`);
      expect(at).toBeGreaterThanOrEqual(0);
      expect('.!?').toContain(text[at + d.context.length + 1 + d.target.length]);
    }
    // two per address, 1840..2020
    expect([...new Set(docs.map((d) => d.id.slice(5, 9)))]).toEqual([
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
  });
});
