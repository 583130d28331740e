// Quality filtering with the published Gopher (Rae et al. 2021) and C4 (Raffel et al. 2020) rules,
// thresholds defaulting to the papers' values. Each rule can be disabled by name (the name is also
// its drop reason, e.g. "gopher.word_count", "c4.lorem_ipsum"; "c4.*" disables a family).
// mode 'drop' removes failing documents (and C4's failing lines); mode 'annotate' keeps every row and
// adds the signals as quality_* Float32 columns plus quality_reason, the rule that would drop it.
// Rules run in the order gopher quality, gopher repetition, C4; a drop counts the first rule failed.
import type { DataType, Schema, Utf8 } from 'apache-arrow';
import { Float32, Utf8 as Utf8Type } from 'apache-arrow';
import { z } from 'zod';
import type { RowSpec } from '../../src/core/row-kernel.ts';
import { defineRowOperator, rowRejectsConfig } from '../../src/core/row-operator.ts';
import { dictUtf8, schemaOf, type Columns } from '../../src/schema/index.ts';
import { C4_RULES, C4Config, c4Clean } from './quality/c4-rules.ts';
import { GOPHER_RULES, GOPHER_SIGNALS, GopherConfig, gopherSignals, gopherVerdict } from './quality/gopher-rules.ts';
import {
  REPETITION_RULES,
  REPETITION_SIGNALS,
  RepetitionConfig,
  repetitionSignals,
  repetitionVerdict,
} from './quality/repetition.ts';
import { wordsOf } from './quality/words.ts';

export const QUALITY_RULES: readonly string[] = [...GOPHER_RULES, ...REPETITION_RULES, ...C4_RULES];
export const QUALITY_SIGNALS: readonly string[] = [
  ...GOPHER_SIGNALS,
  ...REPETITION_SIGNALS,
  'c4_kept_lines',
  'c4_sentences',
];

const knownRule = (s: string) =>
  s.endsWith('*') ? QUALITY_RULES.some((r) => r.startsWith(s.slice(0, -1))) : QUALITY_RULES.includes(s);

const Config = z.object({
  mode: z
    .enum(['drop', 'annotate'])
    .default('drop')
    .describe(
      "'drop' removes failing documents (and C4's failing lines); 'annotate' keeps every row and adds the quality_* " +
        'signal columns and quality_reason, the rule that would drop it',
    ),
  /** rule names to switch off; a trailing * matches a prefix ("c4.*", "gopher.dup_*") */
  disable: z
    .array(z.string().refine(knownRule, { message: `unknown rule; known rules: ${QUALITY_RULES.join(', ')}` }))
    .default([])
    .describe(
      'rule names to switch off (each is also its drop reason, e.g. "gopher.word_count"); a trailing * matches a ' +
        'prefix ("c4.*", "gopher.dup_*")',
    ),
  gopher: GopherConfig.prefault({}).describe('thresholds of the Gopher quality rules (Rae et al. 2021)'),
  repetition: RepetitionConfig.prefault({}).describe('thresholds of the Gopher repetition rules (fractions in [0, 1])'),
  c4: C4Config.prefault({}).describe('settings of the C4 line and page rules (Raffel et al. 2020)'),
  ...rowRejectsConfig,
});
type Cfg = z.output<typeof Config>;

type Text = { text: Utf8 };

export interface QualityResult {
  /** first rule failed, or null */
  reason: string | null;
  /** the text after C4's line removals */
  text: string;
  signals: Record<string, number>;
  /** C4 lines removed, by line rule */
  removed: Record<string, number>;
}

/** An evaluator of documents under `cfg`: `all` computes every signal (annotate); otherwise it stops
 * at the first failed rule. */
export function qualityAssessor(config: z.input<typeof Config> | Cfg): (text: string, all?: boolean) => QualityResult {
  const cfg = Config.parse(config);
  const on = ruleSwitch(cfg.disable);
  const stop = new Set(cfg.gopher.stopWords.map((w) => w.toLowerCase()));
  const families = { gopher: GOPHER_RULES.some(on), repetition: REPETITION_RULES.some(on), c4: C4_RULES.some(on) };
  return (text, all = false) => assess(text, cfg, on, stop, all, families);
}

function ruleSwitch(off: readonly string[]): (rule: string) => boolean {
  const cache = new Map<string, boolean>();
  return (rule) => {
    let v = cache.get(rule);
    if (v === undefined)
      cache.set(rule, (v = !off.some((d) => (d.endsWith('*') ? rule.startsWith(d.slice(0, -1)) : d === rule))));
    return v;
  };
}

interface Families {
  gopher: boolean;
  repetition: boolean;
  c4: boolean;
}

// A family whose rules are all off is not computed, unless every signal is wanted (annotate).
function assess(
  text: string,
  cfg: Cfg,
  on: (rule: string) => boolean,
  stop: ReadonlySet<string>,
  all: boolean,
  f: Families,
): QualityResult {
  const words = wordsOf(text);
  const signals: Record<string, number> = {};
  let reason: string | null = null;
  if (all || f.gopher) {
    const g = gopherSignals(text, words, stop);
    Object.assign(signals, g);
    reason = gopherVerdict(g, cfg.gopher, on);
    if (reason && !all) return { reason, text, signals, removed: {} };
  }
  if (all || f.repetition) {
    const r = repetitionSignals(text, words);
    Object.assign(signals, r);
    reason ??= repetitionVerdict(r, cfg.repetition, on);
    if (reason && !all) return { reason, text, signals, removed: {} };
  }
  if (!all && !f.c4) return { reason, text, signals, removed: {} };
  const c = c4Clean(text, cfg.c4, on);
  signals.c4_kept_lines = c.lines === 0 ? 0 : c.keptLines / c.lines;
  signals.c4_sentences = c.sentences;
  reason ??= c.drop;
  return { reason, text: c.text, signals, removed: c.removed };
}

// drop: a failing document is dropped with its first failed rule, a kept one gets C4's text (lines
// removed, counted by line rule). annotate: every row is kept with its signals (NaN for a null text)
// and the rule that would drop it.
function rows(cfg: Cfg): RowSpec {
  const assessQuality = qualityAssessor(cfg);
  if (cfg.mode === 'drop') {
    return {
      nulls: { drop: 'quality.null' },
      columns: { text: new Utf8Type() },
      rejects: cfg.rejects,
      batch: (_batch, t) => (text: string) => {
        const q = assessQuality(text);
        if (q.reason) return q.reason;
        for (const [rule, n] of Object.entries(q.removed)) t.count(rule, n);
        return { text: q.text };
      },
    };
  }
  const columns: Record<string, DataType> = { quality_reason: dictUtf8() };
  for (const s of QUALITY_SIGNALS) columns[`quality_${s}`] = new Float32();
  return {
    nulls: 'row',
    columns,
    batch: (_batch, t) => (text: string | null) => {
      if (text === null)
        return {
          quality_reason: 'quality.null',
          ...Object.fromEntries(QUALITY_SIGNALS.map((s) => [`quality_${s}`, NaN])),
        };
      const q = assessQuality(text, true);
      if (q.reason) t.count(`would_drop.${q.reason}`);
      const values: Record<string, string | number | null> = { quality_reason: q.reason };
      for (const s of QUALITY_SIGNALS) values[`quality_${s}`] = q.signals[s] ?? NaN;
      return values;
    },
  };
}

function outputSchema(cfg: Cfg): Schema<Text> {
  const cols: Record<string, { type: Float32 | Utf8Type | ReturnType<typeof dictUtf8>; nullable?: boolean }> = {
    text: { type: new Utf8Type() },
  };
  if (cfg.mode === 'annotate') {
    for (const s of QUALITY_SIGNALS) cols[`quality_${s}`] = { type: new Float32() };
    cols.quality_reason = { type: dictUtf8(), nullable: true };
  }
  return schemaOf(cols as unknown as Columns<Text>);
}

export const quality = defineRowOperator({
  id: 'clean/quality',
  description: 'Gopher and C4 quality rules: drop failing documents, or annotate quality_* signal columns',
  module: import.meta.url,
  config: Config,
  input: () => schemaOf<Text>({ text: { type: new Utf8Type() } }),
  passthrough: true,
  output: outputSchema,
  rows,
});
