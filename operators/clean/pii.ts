// PII redaction: e-mail addresses, IPv4/IPv6 addresses and phone numbers in the text are replaced by
// placeholders. Nothing is dropped; each row's replacements are counted in `pii_count` (Int32) and
// the totals per kind in the operator's stats counters (pii.email, pii.ipv4, pii.ipv6, pii.phone).
import type { RecordBatch, Schema, Utf8, Vector } from 'apache-arrow';
import { Int32, makeVector, Utf8 as Utf8Type } from 'apache-arrow';
import { z } from 'zod';
import { defineOperator } from '../../src/core/operator.ts';
import { kernelMap } from '../../src/core/kernel-stats.ts';
import { schemaOf } from '../../src/schema/index.ts';
import { PII_KINDS, redact, type PiiKind } from './pii/detectors.ts';
import { emit, RowTally, textColumn, utf8Vector } from './rows.ts';

const Config = z.object({
  kinds: z.array(z.enum(PII_KINDS)).min(1).default([...PII_KINDS]),
  placeholders: z.object({
    email: z.string().default('<EMAIL>'),
    ipv4: z.string().default('<IP_ADDRESS>'),
    ipv6: z.string().default('<IP_ADDRESS>'),
    phone: z.string().default('<PHONE>'),
  }).prefault({}),
  /** add the per-row `pii_count` column */
  countColumn: z.boolean().default(true),
});
type Cfg = z.output<typeof Config>;

type Text = { text: Utf8 };
type Counted = { text: Utf8; pii_count: Int32 };

export { redact as redactPii, PII_KINDS, type PiiKind };

const kernel = (cfg: Cfg) => (batch: RecordBatch<Text>): RecordBatch<Text> => {
  const get = textColumn(batch);
  const t = new RowTally();
  const texts: (string | null)[] = [];
  const perRow = new Int32Array(batch.numRows);
  let changed = false;
  for (let row = 0; row < batch.numRows; row++) {
    t.keep.push(row);
    const text = get(row);
    if (text === null) { texts.push(null); continue; }
    const r = redact(text, cfg.kinds, (k) => cfg.placeholders[k]);
    for (const [kind, n] of Object.entries(r.counts)) { t.count(`pii.${kind}`, n); perRow[row]! += n; }
    if (r.text !== text) changed = true;
    texts.push(r.text);
  }
  const cols: Record<string, Vector> = {};
  if (changed) cols.text = utf8Vector(texts);
  if (cfg.countColumn) cols.pii_count = makeVector(perRow) as Vector;
  return emit(batch, t, cols);
};

export const pii = defineOperator({
  id: 'clean/pii',
  description: 'redact e-mail addresses, IP addresses and phone numbers; count replacements',
  module: import.meta.url,
  config: Config,
  input: () => schemaOf<Text>({ text: { type: new Utf8Type() } }),
  passthrough: true,
  // typed as Text: pii_count exists only with countColumn (the default)
  output: (cfg: Cfg): Schema<Text> => (cfg.countColumn
    ? schemaOf<Counted>({ text: { type: new Utf8Type() }, pii_count: { type: new Int32() } }) as unknown as Schema<Text>
    : schemaOf<Text>({ text: { type: new Utf8Type() } })),
  kernel,
  make: (cfg, ctx) => kernelMap(kernel(cfg), ctx),
});
