// Perplexity on held-out ham emails: the ham emails of the spam-zero-shot task (which posttrain/spam-sft
// leaves out of the fine-tuning records), each laid out exactly as spam-sft lays out a record and
// sft-prep's email template joins it: "Subject: <subject>\n<about 400 characters of the body>". One
// loglikelihood_rolling request per email; word/byte perplexity and bits per byte are heldout-perplexity's
// aggregations (ratios of sums, lm-eval's weighted_perplexity and bits_per_byte), so a fine-tuned model
// compares with its base on text of the fine-tuning distribution it never saw.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineTask } from '../../../src/eval/task.ts';
import { spamAssassinDir } from '../../ingest/embedded-corpus.ts';
import { spamSftRecord } from '../../posttrain/spam-sft.ts';
import {
  bitsPerByte,
  bytePerplexity,
  countBytes,
  countWords,
  type PerplexityItem,
  wordPerplexity,
} from './heldout-perplexity.ts';
import { SPAM_CONFIG, spamDocs } from './spam-zero-shot.ts';

export interface HamDoc {
  /** `<group>/<file name without .txt>` */
  id: string;
  text: string;
}

/** spam-sft's record settings (its defaults), so the text is what fine-tuning trains on. */
export const HAM_LAYOUT = { bodyChars: SPAM_CONFIG.bodyChars, minBodyChars: SPAM_CONFIG.minBodyChars } as const;

let docs: readonly HamDoc[] | undefined;

/** The held-out ham emails in spam-zero-shot's order, as spam-sft's prompt, a newline, and its response. */
export function heldoutHamDocs(): readonly HamDoc[] {
  if (!docs) {
    const dir = spamAssassinDir();
    const out: HamDoc[] = [];
    for (const d of spamDocs()) {
      if (d.label !== 'ham') continue;
      const rec = spamSftRecord(readFileSync(join(dir, `${d.id}.txt`), 'latin1'), HAM_LAYOUT);
      // spam-zero-shot kept only emails with a body of at least minBodyChars, so every one has a record
      if (!rec) throw new Error(`heldout-ham: ${d.id} has no usable body; has the spam-assassin package changed?`);
      out.push({ id: d.id, text: `${rec.prompt}\n${rec.response}` });
    }
    docs = Object.freeze(out);
  }
  return docs;
}

export default defineTask<HamDoc>({
  name: 'heldout-ham',
  description:
    'Rolling log-likelihood of the 100 held-out SpamAssassin ham emails of spam-zero-shot (subject line and ' +
    'the first ~400 characters of the body, the layout of the fine-tuning records of posttrain/spam-sft, ' +
    'which leaves these emails out): perplexity on the fine-tuning domain. Lower is better.',
  metrics: {
    word_perplexity: { aggregate: wordPerplexity, higherIsBetter: false, stderr: 'bootstrap' },
    byte_perplexity: { aggregate: bytePerplexity, higherIsBetter: false, stderr: 'bootstrap' },
    bits_per_byte: { aggregate: bitsPerByte, higherIsBetter: false, stderr: 'bootstrap' },
  },
  docs: (limit) => (limit === undefined ? heldoutHamDocs() : heldoutHamDocs().slice(0, limit)),
  requests: (doc) => [{ kind: 'loglikelihood_rolling', text: doc.text }],
  process: (doc, results) => {
    const r = results[0];
    if (results.length !== 1 || r?.kind !== 'loglikelihood_rolling')
      throw new Error(`heldout-ham ${doc.id}: expected one loglikelihood_rolling result, got ${results.length}`);
    const item: PerplexityItem = { loglik: r.loglik, words: countWords(doc.text), bytes: countBytes(doc.text) };
    return { word_perplexity: item, byte_perplexity: item, bits_per_byte: item };
  },
  texts: (doc) => [doc.text],
  config: { docs: 'spam-zero-shot ham emails', layout: 'Subject: <subject>\\n<body>', ...HAM_LAYOUT },
});
