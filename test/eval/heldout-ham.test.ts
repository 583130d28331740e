// The heldout-ham task's documents: spam-zero-shot's 100 ham emails, in its order, each laid out as
// sft-prep renders a spam-sft record with its email template (prompt "Subject: ...", a newline, the body),
// the subject as spam-zero-shot decoded it and the body a prefix of its 400 characters.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spamAssassinDir } from '../../operators/ingest/embedded-corpus.ts';
import heldoutHam, { heldoutHamDocs, HAM_LAYOUT } from '../../operators/eval/tasks/heldout-ham.ts';
import { bitsPerByte, wordPerplexity } from '../../operators/eval/tasks/heldout-perplexity.ts';
import { spamDocs } from '../../operators/eval/tasks/spam-zero-shot.ts';
import { renderSft, sftTemplateSchema } from '../../operators/posttrain/sft-template.ts';
import { spamSftRecord } from '../../operators/posttrain/spam-sft.ts';

describe('heldout-ham', () => {
  const docs = heldoutHamDocs();
  const ham = spamDocs().filter((d) => d.label === 'ham');

  it("holds spam-zero-shot's ham emails in its order", () => {
    expect(docs).toHaveLength(100);
    expect(docs.map((d) => d.id)).toEqual(ham.map((d) => d.id));
    expect(new Set(docs.map((d) => d.id)).size).toBe(100);
  });

  it('lays each email out as the fine-tuning text: "Subject: <subject>", a newline, a prefix of the body', () => {
    ham.forEach((h, i) => {
      const text = docs[i]!.text;
      const nl = text.indexOf('\n');
      expect(text.slice(0, nl), h.id).toBe(`Subject: ${h.subject}`);
      const body = text.slice(nl + 1);
      // a body spam-zero-shot did not cut is whole; a cut one ends at a word in the second half of 400
      if (h.body.length < 399) expect(body, h.id).toBe(h.body);
      else expect(body.length, h.id).toBeGreaterThanOrEqual(200);
      expect(h.body.startsWith(body), h.id).toBe(true);
    });
    // sft-prep's email template on spam-sft's record gives the same characters (EOS is a token, not text)
    const template = sftTemplateSchema.parse({ prompt: '{prompt}\n' });
    for (const d of docs.slice(0, 10)) {
      const rec = spamSftRecord(readFileSync(join(spamAssassinDir(), `${d.id}.txt`), 'latin1'), HAM_LAYOUT)!;
      const r = renderSft(template, rec.prompt, rec.response);
      expect(r.prompt + r.response).toBe(d.text);
    }
  });

  it('asks one rolling log-likelihood per email and sums words and bytes as lm-eval counts them', () => {
    const d = { id: 'x', text: 'Subject: héllo\nwo rld ' };
    expect(heldoutHam.requests(d)).toEqual([{ kind: 'loglikelihood_rolling', text: d.text }]);
    const items = heldoutHam.process(d, [{ kind: 'loglikelihood_rolling', loglik: -20, tokens: 7 }]);
    // re.split(r"\s+", "Subject: héllo\nwo rld ") -> ['Subject:', 'héllo', 'wo', 'rld', ''] ; é is 2 UTF-8 bytes
    expect(items.word_perplexity).toEqual({ loglik: -20, words: 5, bytes: 23 });
    expect(wordPerplexity([items.word_perplexity])).toBeCloseTo(Math.exp(20 / 5), 9);
    expect(bitsPerByte([items.bits_per_byte])).toBeCloseTo(20 / 23 / Math.LN2, 12);
    expect(heldoutHam.metrics.word_perplexity!.aggregate).toBe(wordPerplexity);
    expect(heldoutHam.metrics.bits_per_byte!.aggregate).toBe(bitsPerByte);
  });
});
