// PII redaction: e-mail addresses, IPv4/IPv6 addresses and phone numbers in the text are replaced by
// placeholders. Nothing is dropped; each row's replacements are counted in `pii_count` (Int32) and
// the totals per kind in the operator's stats counters (pii.email, pii.ipv4, pii.ipv6, pii.phone).
import type { DataType, Schema, Utf8 } from 'apache-arrow';
import { Int32, Utf8 as Utf8Type } from 'apache-arrow';
import { z } from 'zod';
import type { RowSpec } from '../../src/core/row-kernel.ts';
import { defineRowOperator } from '../../src/core/row-operator.ts';
import { schemaOf } from '../../src/schema/index.ts';
import { PII_KINDS, redact, type PiiKind } from './pii/detectors.ts';

const Config = z.object({
  kinds: z
    .array(z.enum(PII_KINDS))
    .min(1)
    .default([...PII_KINDS])
    .describe('kinds of personal data replaced (default: all)'),
  placeholders: z
    .object({
      email: z.string().default('<EMAIL>').describe('replaces e-mail addresses'),
      ipv4: z.string().default('<IP_ADDRESS>').describe('replaces IPv4 addresses'),
      ipv6: z.string().default('<IP_ADDRESS>').describe('replaces IPv6 addresses'),
      phone: z.string().default('<PHONE>').describe('replaces phone numbers'),
    })
    .prefault({})
    .describe('the text each kind is replaced by'),
  /** add the per-row `pii_count` column */
  countColumn: z.boolean().default(true).describe('add the per-row pii_count column (Int32: replacements in the row)'),
});
type Cfg = z.output<typeof Config>;

type Text = { text: Utf8 };
type Counted = { text: Utf8; pii_count: Int32 };

export { redact as redactPii, PII_KINDS, type PiiKind };

// every row is kept; a null text stays null, with a count of 0
function rows(cfg: Cfg): RowSpec {
  const columns: Record<string, DataType> = { text: new Utf8Type() };
  if (cfg.countColumn) columns.pii_count = new Int32();
  return {
    nulls: 'row',
    columns,
    batch: (_batch, t) => (text: string | null) => {
      if (text === null) return { pii_count: 0 };
      const r = redact(text, cfg.kinds, (k) => cfg.placeholders[k]);
      let n = 0;
      for (const [kind, k] of Object.entries(r.counts)) {
        t.count(`pii.${kind}`, k);
        n += k;
      }
      return { text: r.text, pii_count: n };
    },
  };
}

export const pii = defineRowOperator({
  id: 'clean/pii',
  description: 'redact e-mail addresses, IP addresses and phone numbers; count replacements',
  module: import.meta.url,
  config: Config,
  input: () => schemaOf<Text>({ text: { type: new Utf8Type() } }),
  passthrough: true,
  // typed as Text: pii_count exists only with countColumn (the default)
  output: (cfg: Cfg): Schema<Text> =>
    cfg.countColumn
      ? (schemaOf<Counted>({
          text: { type: new Utf8Type() },
          pii_count: { type: new Int32() },
        }) as unknown as Schema<Text>)
      : schemaOf<Text>({ text: { type: new Utf8Type() } }),
  rows,
});
