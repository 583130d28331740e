// posttrain/spam-preference-pairs on the SpamAssassin corpus: the chosen side comes from a ham email and
// the rejected from a spam one (checked against the group each email's own .json record in the dataset
// names, and against the spam-zero-shot task's parse of the email), no email the task holds out, each
// email in one pair at most, train and held-out splits disjoint with every k-th pair held out, the same
// pairs for the same seed; every config field changes the output.
// posttrain/pair-pack: each pair as one row of two halves (chosen, then rejected) of prompt + response +
// EOS ids, checked against js-tiktoken's encoding of the rendered texts, attention_mask 1 exactly on the
// response tokens; every config field changes the output.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Schema, Field, Utf8, type RecordBatch } from 'apache-arrow';
import { getEncoding } from 'js-tiktoken';
import { describe, expect, it } from 'vitest';
import { spamAssassinDir } from '../../../operators/ingest/embedded-corpus.ts';
import { bodyText, spamDoc, type SpamLabel } from '../../../operators/eval/tasks/spam-zero-shot.ts';
import { pairPack } from '../../../operators/posttrain/pair-pack.ts';
import { heldOutIds, spamPreferencePairs } from '../../../operators/posttrain/preference-pairs.ts';
import { ALPACA_PROMPT } from '../../../operators/posttrain/sft-template.ts';
import { OperatorStats } from '../../../src/core/stats.ts';
import { batchFromColumns } from '../../../src/schema/index.ts';
import { drain } from '../ingest/helpers.ts';
import { cells, runOp } from '../pack/fixtures.ts';

type Row = { id: string; prompt: string; chosen: string; rejected: string };
const pairs = async (config: Parameters<typeof spamPreferencePairs>[0]) => {
  const r = await drain(spamPreferencePairs, config ?? {});
  expect(r.error).toBeUndefined();
  return { rows: r.rows as Row[], batches: r.batches, stats: r.ctx.stats };
};
const sides = (r: Row) => r.id.split('|') as [string, string];
const raw = (id: string) => readFileSync(join(spamAssassinDir(), `${id}.txt`), 'latin1');
/** The group the dataset's own record of the email names (its .json next to the .txt). */
const groupOf = (id: string) =>
  (JSON.parse(readFileSync(join(spamAssassinDir(), `${id}.json`), 'utf8')) as { group: string }).group;
const fullBody = (id: string) => bodyText(raw(id)).replace(/\s+/g, ' ').trim();
const asTask = (id: string, label: SpamLabel) => spamDoc(id, label, raw(id));

describe('posttrain/spam-preference-pairs', () => {
  it('chosen from ham, rejected from spam; held-out emails excluded; splits disjoint; deterministic', async () => {
    const train = await pairs({});
    const held = await pairs({ split: 'heldout' });
    const all = [...train.rows, ...held.rows];
    expect(all.length).toBeGreaterThan(1500);
    // every 10th pair held out
    expect(held.rows.length).toBe(Math.floor(all.length / 10));
    const hamUsed = all.map((r) => sides(r)[0]);
    const spamUsed = all.map((r) => sides(r)[1]);
    // each email in one pair at most, so the two splits share no email
    expect(new Set(hamUsed).size).toBe(all.length);
    expect(new Set(spamUsed).size).toBe(all.length);
    const [hamHeld, spamHeld] = [heldOutIds('ham'), heldOutIds('spam')];
    expect([hamHeld.size, spamHeld.size]).toEqual([100, 100]);
    expect(hamUsed.filter((id) => hamHeld.has(id))).toEqual([]);
    expect(spamUsed.filter((id) => spamHeld.has(id))).toEqual([]);
    expect(held.stats.dropReasons.get('held out by spam-zero-shot')).toBeGreaterThan(0);
    // labels: the dataset's records, and the text as the eval task reads the same emails
    for (const r of all.filter((_, i) => i % 37 === 0)) {
      const [h, s] = sides(r);
      expect(groupOf(h)).toMatch(/^(easy|hard)-ham-\d$/);
      expect(groupOf(s)).toMatch(/^spam-\d$/);
      const [hd, sd] = [asTask(h, 'ham'), asTask(s, 'spam')];
      expect(r.prompt).toBe(`Subject: ${hd.subject}\n`);
      expect(hd.body.startsWith(r.chosen)).toBe(true);
      expect(sd.body.startsWith(r.rejected)).toBe(true);
      expect(r.chosen.length).toBeGreaterThanOrEqual(Math.min(200, hd.body.length));
    }
    const again = await pairs({ split: 'heldout' });
    expect(again.rows).toEqual(held.rows);
  }, 60_000);

  it('seed changes the pairing; heldoutEvery the split; excludeHeldOut false lets the held-out emails in', async () => {
    const a = await pairs({ limit: 50 });
    const b = await pairs({ limit: 50, seed: 1 });
    expect(b.rows.length).toBe(50);
    expect(b.rows.map((r) => r.id).filter((id) => a.rows.some((r) => r.id === id))).toEqual([]);
    for (const r of b.rows)
      expect([groupOf(sides(r)[0]).includes('ham'), groupOf(sides(r)[1])]).toEqual([
        true,
        expect.stringMatching(/^spam/),
      ]);
    // pairs are made in the same order whatever the split: k=2 holds out the odd pairs
    const [t2, h2, both] = await Promise.all([
      pairs({ limit: 20, heldoutEvery: 2 }),
      pairs({ limit: 20, heldoutEvery: 2, split: 'heldout' }),
      pairs({ limit: 40, heldoutEvery: 1000 }),
    ]);
    expect(t2.rows).toEqual(both.rows.filter((_, i) => i % 2 === 0));
    expect(h2.rows).toEqual(both.rows.filter((_, i) => i % 2 === 1));
    const h3 = await pairs({ limit: 5, heldoutEvery: 3, split: 'heldout' });
    expect(h3.rows).toEqual([2, 5, 8, 11, 14].map((i) => both.rows[i]));
    const open = await pairs({ excludeHeldOut: false, spamGroups: ['spam-1'], hamGroups: ['hard-ham-1'] });
    const shut = await pairs({ spamGroups: ['spam-1'], hamGroups: ['hard-ham-1'] });
    const inOpen = open.rows.map(sides).flat();
    expect(inOpen.some((id) => heldOutIds('ham').has(id))).toBe(true);
    expect(inOpen.some((id) => heldOutIds('spam').has(id))).toBe(true);
    expect(
      shut.rows
        .map(sides)
        .flat()
        .some((id) => heldOutIds('ham').has(id) || heldOutIds('spam').has(id)),
    ).toBe(false);
  }, 60_000);

  it('hamGroups, spamGroups, prompt, bodyChars, minBodyChars, limit, batchRows', async () => {
    const g = await pairs({ hamGroups: ['hard-ham-1'], spamGroups: ['spam-2'], limit: 30 });
    expect(g.rows.every((r) => sides(r)[0].startsWith('hard-ham-1/') && sides(r)[1].startsWith('spam-2/'))).toBe(true);
    const fixed = await pairs({ prompt: 'Email:\n', limit: 5 });
    expect(fixed.rows.map((r) => r.prompt)).toEqual(Array(5).fill('Email:\n'));
    const subj = await pairs({ prompt: 'Re: {subject}!', limit: 5 });
    expect(subj.rows.map((r) => r.prompt)).toEqual(subj.rows.map((r) => `Re: ${asTask(sides(r)[0], 'ham').subject}!`));
    const short = await pairs({ bodyChars: 50, limit: 20 });
    for (const r of short.rows) {
      expect(r.chosen.length).toBeLessThanOrEqual(50);
      expect(fullBody(sides(r)[0]).startsWith(r.chosen)).toBe(true);
    }
    expect(short.rows.some((r) => r.chosen.length > 40)).toBe(true);
    const long = await pairs({ minBodyChars: 3000, limit: 20 });
    for (const r of long.rows) for (const id of sides(r)) expect(fullBody(id).length).toBeGreaterThanOrEqual(3000);
    expect(long.stats.dropReasons.get('body shorter than minBodyChars')).toBeGreaterThan(0);
    const batched = await pairs({ limit: 7, batchRows: 3 });
    expect(batched.batches.map((b) => b.numRows)).toEqual([3, 3, 1]);
    await expect(drain(spamPreferencePairs, { hamGroups: ['no-such'] }).then((r) => r.error?.message)).resolves.toMatch(
      /no folder "no-such"/,
    );
  }, 60_000);
});

const textSchema = new Schema([
  new Field('prompt', new Utf8(), true),
  new Field('chosen', new Utf8(), true),
  new Field('rejected', new Utf8(), true),
]);
const pairBatch = (rows: Array<[string | null, string | null, string | null]>) =>
  batchFromColumns(
    textSchema as never,
    {
      prompt: rows.map((r) => r[0]),
      chosen: rows.map((r) => r[1]),
      rejected: rows.map((r) => r[2]),
    } as never,
  ) as RecordBatch;

const PAIRS: Array<[string, string, string]> = [
  ['Subject: meeting moved\n', 'The review is now on Thursday at 10.', 'BUY CHEAP MEDS NOW!!! Click here'],
  ['Subject: re: exmh bug\n', 'I could not reproduce it with the CVS version.', 'Make $$$ fast from home'],
  ['Subject: hello\n', 'Thanks, see you then.', 'You have WON a FREE cruise, reply with your bank details'],
];
const gpt2 = getEncoding('gpt2');

async function pack(
  config: Parameters<typeof pairPack>[0],
  rows = PAIRS as Array<[string | null, string | null, string | null]>,
) {
  const stats = new OperatorStats('p');
  const out = await runOp([pairBatch(rows.slice(0, 2)), pairBatch(rows.slice(2))], pairPack(config, { stats }));
  // a pair is one row [chosen | rejected]: its halves as rows 2i and 2i+1
  const halves = (row: number[]) => [row.slice(0, row.length / 2), row.slice(row.length / 2)];
  return {
    out,
    ids: out.flatMap((b) => cells(b, 'input_ids')).flatMap(halves),
    mask: out.flatMap((b) => cells(b, 'attention_mask')).flatMap(halves),
    starts: out.flatMap((b) => [...b.getChild('doc_starts')!].map((v) => Array.from(v as Iterable<number>))),
    stats,
  };
}

/** The row js-tiktoken gives: prompt ids, response ids (+ EOS), padding; the mask on the response. */
function expectedRow(prompt: string, response: string, width: number, o: { eos?: boolean; pad?: number } = {}) {
  const p = gpt2.encode(prompt, [], []);
  const r = [...gpt2.encode(response, [], []), ...(o.eos === false ? [] : [50256])];
  const ids = [...p, ...r].slice(0, width);
  const mask = [...p.map(() => 0), ...r.map(() => 1)].slice(0, width);
  mask[0] = 0;
  const pad = width - ids.length;
  return { ids: [...ids, ...Array(pad).fill(o.pad ?? 0)], mask: [...mask, ...Array(pad).fill(0)] };
}

describe('posttrain/pair-pack', () => {
  it('a pair is one row, chosen half then rejected half; the mask covers exactly the response tokens', async () => {
    const r = await pack({ seqLen: 39, template: { prompt: '{prompt}' } });
    // one row per pair: [chosen | rejected], 2 x 40 tokens, each half one example (doc_starts [0, 40])
    expect(r.out.map((b) => b.numRows)).toEqual([3]);
    expect(r.starts).toEqual([
      [0, 40],
      [0, 40],
      [0, 40],
    ]);
    expect(r.ids.every((row) => row.length === 40)).toBe(true);
    PAIRS.forEach(([p, c, j], i) => {
      const [ec, ej] = [expectedRow(p, c, 40), expectedRow(p, j, 40)];
      expect(r.ids[2 * i]).toEqual(ec.ids);
      expect(r.mask[2 * i]).toEqual(ec.mask);
      expect(r.ids[2 * i + 1]).toEqual(ej.ids);
      expect(r.mask[2 * i + 1]).toEqual(ej.mask);
      // the prompt is shared, the targets decode to the response and its EOS
      const sel = (row: number) => r.ids[row]!.filter((_, t) => r.mask[row]![t] === 1);
      expect(gpt2.decode(sel(2 * i))).toBe(`${c}<|endoftext|>`);
      expect(gpt2.decode(sel(2 * i + 1))).toBe(`${j}<|endoftext|>`);
    });
    expect(r.stats.counters.get('pairs')).toBe(3);
  });

  it('template (Alpaca default, eos), encoding, seqLen, pairsPerBatch, padId', async () => {
    const alpaca = await pack({ seqLen: 99 });
    const [p, c] = PAIRS[0]!;
    expect(alpaca.ids[0]).toEqual(expectedRow(ALPACA_PROMPT.replace('{prompt}', p), c, 100).ids);
    const noEos = await pack({ seqLen: 39, template: { prompt: '{prompt}', eos: false }, padId: 7 });
    const e = expectedRow(p, c, 40, { eos: false, pad: 7 });
    expect(noEos.ids[0]).toEqual(e.ids);
    expect(noEos.mask[0]).toEqual(e.mask);
    const cl = await pack({ seqLen: 39, template: { prompt: '{prompt}' }, encoding: 'cl100k' });
    const cl100k = getEncoding('cl100k_base');
    const want = [...cl100k.encode(p, [], []), ...cl100k.encode(c, [], []), 100257];
    expect(cl.ids[0]!.slice(0, want.length)).toEqual(want);
    const small = await pack({ seqLen: 39, template: { prompt: '{prompt}' }, pairsPerBatch: 1 });
    expect(small.out.map((b) => b.numRows)).toEqual([1, 1, 1]);
  });

  it('overflow: truncate cuts the responses, drop drops the pair; nulls drop the pair', async () => {
    // rows of prompt + response + EOS: pair 1 15 and 17 tokens, pair 2 21 and 16, pair 3 11 and 18
    const width = 18;
    const t = await pack({ seqLen: width - 1, template: { prompt: '{prompt}' } });
    expect(t.ids.length).toBe(6);
    PAIRS.forEach(([p, c, j], i) => {
      expect(t.ids[2 * i]).toEqual(expectedRow(p, c, width).ids);
      expect(t.mask[2 * i + 1]).toEqual(expectedRow(p, j, width).mask);
    });
    // pair 2's chosen is cut: targets from its prompt's end to the row's end, no EOS
    expect(t.mask[2]!.every((m, k) => m === (k >= gpt2.encode(PAIRS[1]![0], [], []).length ? 1 : 0))).toBe(true);
    expect(t.ids[2]).not.toContain(50256);
    expect(t.stats.counters.get('responses truncated')).toBe(1);
    const fits = PAIRS.filter(([p, c, j]) =>
      [c, j].every((x) => gpt2.encode(p, [], []).length + gpt2.encode(x, [], []).length + 1 <= width),
    );
    expect(fits.length).toBeGreaterThan(0);
    expect(fits.length).toBeLessThan(3);
    const d = await pack({ seqLen: width - 1, template: { prompt: '{prompt}' }, overflow: 'drop' });
    expect(d.ids.length).toBe(2 * fits.length);
    expect(d.stats.dropReasons.get('pair longer than a row')).toBe(3 - fits.length);
    // a prompt that fills the row leaves no target
    const full = await pack({ seqLen: 3, template: { prompt: '{prompt}' } }, [['one two three four five', 'a', 'b']]);
    expect(full.ids).toEqual([]);
    expect(full.stats.dropReasons.get('no response token fits after the prompt')).toBe(1);
    const nulls = await pack({ seqLen: 39, template: { prompt: '{prompt}' } }, [[null, 'a', 'b'], ...PAIRS]);
    expect(nulls.ids.length).toBe(6);
    expect(nulls.stats.dropReasons.get('null prompt, chosen or rejected')).toBe(1);
  });
});
