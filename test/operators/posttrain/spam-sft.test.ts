// posttrain/spam-sft on the SpamAssassin corpus: records in id order, the same on every run, none of
// the spam-zero-shot task's held-out ham emails among them (unless excludeHeldOut is false), prompt
// "Subject: ..." and response the body's start cut at a word; every config field changes the output.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spamAssassinDir } from '../../../operators/ingest/embedded-corpus.ts';
import { cutAtWord, heldOutHamIds, spamSft } from '../../../operators/posttrain/spam-sft.ts';
import { spamDocs } from '../../../operators/eval/tasks/spam-zero-shot.ts';
import { drain } from '../ingest/helpers.ts';

describe('posttrain/spam-sft', () => {
  it('cutAtWord ends at a word boundary in the last half, else at the character limit', () => {
    expect(cutAtWord('the quick brown fox', 12)).toBe('the quick');
    expect(cutAtWord('the quick brown fox', 9)).toBe('the quick');
    expect(cutAtWord('the quick brown fox', 40)).toBe('the quick brown fox');
    expect(cutAtWord('a supercalifragilistic', 10)).toBe('a supercal');
  });

  it("reads every ham email but the task's held-out ones, in id order, deterministically", async () => {
    const r = await drain(spamSft, { groups: ['hard-ham-1'] });
    expect(r.error).toBeUndefined();
    const ids = r.rows.map((x) => x.id as string);
    expect(ids).toEqual([...ids].sort());
    const held = heldOutHamIds();
    expect(held.size).toBe(100);
    expect(ids.some((id) => held.has(id))).toBe(false);
    const heldHere = [...held].filter((id) => id.startsWith('hard-ham-1/'));
    expect(heldHere.length).toBeGreaterThan(0);
    expect(r.ctx.stats.dropReasons.get('held out by spam-zero-shot')).toBe(heldHere.length);
    const again = await drain(spamSft, { groups: ['hard-ham-1'] });
    expect(again.rows).toEqual(r.rows);
    const all = await drain(spamSft, { groups: ['hard-ham-1'], excludeHeldOut: false });
    expect(all.rows.length).toBe(r.rows.length + heldHere.length);
  });

  it('prompt is the subject line, response the body start; as the eval task shows the same email', async () => {
    const r = await drain(spamSft, { groups: ['easy-ham-1', 'easy-ham-2', 'hard-ham-1'], excludeHeldOut: false });
    const byId = new Map(r.rows.map((x) => [x.id as string, x]));
    // the eval task's own parse of its held-out emails (its 400-character body, not cut at a word)
    for (const d of spamDocs().filter((x) => x.label === 'ham')) {
      const rec = byId.get(d.id)!;
      expect(rec.prompt).toBe(`Subject: ${d.subject}`);
      expect(d.body.startsWith(rec.response as string)).toBe(true);
      expect((rec.response as string).length).toBeGreaterThanOrEqual(Math.min(d.body.length, 200));
      expect(rec.source).toBe('spam-assassin-ham');
    }
  });

  it('bodyChars, minBodyChars, limit, batchRows and groups', async () => {
    const r = await drain(spamSft, { groups: ['easy-ham-2'], bodyChars: 60, limit: 25, batchRows: 10 });
    expect(r.rows.length).toBe(25);
    expect(r.batches.map((b) => b.numRows)).toEqual([10, 10, 5]);
    expect(r.rows.every((x) => (x.id as string).startsWith('easy-ham-2/'))).toBe(true);
    expect(r.rows.every((x) => (x.response as string).length <= 60)).toBe(true);
    const first = readFileSync(join(spamAssassinDir(), `${r.rows[0]!.id as string}.txt`), 'latin1');
    expect(first).toMatch(/^Subject: /m);
    const strict = await drain(spamSft, { groups: ['hard-ham-1'], minBodyChars: 2000 });
    const loose = await drain(spamSft, { groups: ['hard-ham-1'], minBodyChars: 0 });
    expect(strict.rows.length).toBeLessThan(loose.rows.length);
    expect(strict.ctx.stats.dropReasons.get('body shorter than minBodyChars')).toBe(
      loose.rows.length - strict.rows.length,
    );
    const bad = await drain(spamSft, { groups: ['ham-3'] });
    expect(bad.error?.message).toMatch(/no folder "ham-3" in .* \(it has .*easy-ham-1/);
  });
});
