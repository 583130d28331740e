// Unicode normalisation and whitespace clean-up of the text column. A pure batch kernel, so it can
// run on the worker pool.
import type { RecordBatch, Utf8 } from 'apache-arrow';
import { vectorFromArray, Utf8 as Utf8Type } from 'apache-arrow';
import { z } from 'zod';
import { defineOperator } from '../../src/core/operator.ts';
import { mapBatch } from '../../src/core/map-batch.ts';
import { schemaOf, withColumns } from '../../src/schema/index.ts';

type Text = { text: Utf8 };
const Config = z.object({
  form: z.enum(['NFC', 'NFKC', 'none']).default('NFC'),
  /** collapse runs of spaces/tabs, strip trailing spaces, keep at most two newlines in a row */
  whitespace: z.boolean().default(true),
  /** remove C0/C1 control characters other than tab and newline */
  controls: z.boolean().default(true),
});
type Cfg = z.output<typeof Config>;

// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;

export function normalizeText(s: string, cfg: Cfg): string {
  let t = cfg.form === 'none' ? s : s.normalize(cfg.form);
  if (cfg.controls) t = t.replace(/\r\n?/g, '\n').replace(CONTROLS, '');
  if (cfg.whitespace) t = t.replace(/[ \t\u00A0]+/g, ' ').replace(/ *\n */g, '\n').replace(/\n{3,}/g, '\n\n').trim();
  return t;
}

const textSchema = () => schemaOf<Text>({ text: { type: new Utf8Type() } });

const kernel = (cfg: Cfg) => (batch: RecordBatch<Text>): RecordBatch<Text> => {
  const col = batch.getChild('text')!;
  const out = new Array<string | null>(batch.numRows);
  for (let i = 0; i < batch.numRows; i++) { const v = col.get(i); out[i] = v === null ? null : normalizeText(v, cfg); }
  return withColumns(batch, { text: vectorFromArray(out, new Utf8Type()) }) as unknown as RecordBatch<Text>;
};

export const normalize = defineOperator({
  id: 'clean/normalize',
  description: 'Unicode normalisation (NFC/NFKC), control characters and whitespace clean-up',
  module: import.meta.url,
  config: Config,
  input: textSchema,
  passthrough: true,
  output: textSchema,
  kernel,
  make: (cfg, ctx) => mapBatch(kernel(cfg), { ctx }),
});
