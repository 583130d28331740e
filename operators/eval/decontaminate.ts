// Decontamination: training documents that share a word n-gram (13 by default, normalised as in
// ngram-index.ts) with an item of the named eval tasks are dropped (mode 'drop', reason
// `eval_contamination`) or kept and counted (mode 'flag': the Doc schema has no column for a mark, and
// a new column would ride through tokenize into the shards, so a flagged document is only counted, as
// the `contaminated` counter, and listed in the report). The report (JSON, written when the input ends)
// gives per task the contaminated items and the training documents that hit them.
//
// The index is built from the tasks when the first batch (or the end of an empty input) arrives. It is
// one index and one tally for the whole stream, so the operator runs on the main thread, not on workers.
import type { RecordBatch, Utf8 } from 'apache-arrow';
import { Utf8 as Utf8Type } from 'apache-arrow';
import { defer, type OperatorFunction } from 'rxjs';
import { z } from 'zod';
import type { OperatorContext } from '../../src/core/context.ts';
import { kernelFailure, recordKernelStats } from '../../src/core/kernel-stats.ts';
import { operate } from '../../src/core/operate.ts';
import { defineOperator } from '../../src/core/operator.ts';
import { runRows, type RowSpec } from '../../src/core/row-kernel.ts';
import { loadTasks } from '../../src/eval/registry.ts';
import { schemaOf } from '../../src/schema/index.ts';
import { ContaminationTally, indexTasks, writeReport } from './contamination-report.ts';

type Text = { text: Utf8 };

export const CONTAMINATED = 'eval_contamination';

const Config = z.object({
  tasks: z
    .array(z.string().min(1))
    .min(1)
    .describe('eval tasks whose texts must not be in the training data: names (operators/eval/tasks) or task files'),
  n: z.number().int().min(1).default(13).describe('words per n-gram (13: GPT-3, lm-evaluation-harness)'),
  minWords: z
    .number()
    .int()
    .min(1)
    .default(8)
    .describe(
      'eval items shorter than n words are matched whole (as one n-gram of their length) when they have at least ' +
        'this many words; shorter ones are not checked (GPT-3 kept n >= 8)',
    ),
  mode: z
    .enum(['drop', 'flag'])
    .default('drop')
    .describe('drop: remove contaminated training documents; flag: keep them, count and report them'),
  report: z
    .string()
    .min(1)
    .optional()
    .describe(
      'JSON report written when the input ends (temp file + rename): per task the contaminated items and the ' +
        'training documents that hit them',
    ),
});
export type DecontaminateConfig = z.output<typeof Config>;

const textSchema = () => schemaOf<Text>({ text: { type: new Utf8Type() } });

/** The row kernel of one tally: a document's verdict from its text (null text: kept, not scanned). */
function rowsOf(cfg: DecontaminateConfig, tally: ContaminationTally): RowSpec {
  return {
    nulls: 'keep',
    batch: (batch, t) => {
      const ids = (batch as unknown as RecordBatch<{ id: Utf8 }>).getChild('id');
      return (text, r) => {
        const id = ids?.get(r);
        if (!tally.check(text, typeof id === 'string' ? id : null)) return true;
        if (cfg.mode === 'drop') return CONTAMINATED;
        t.count('contaminated');
        return true;
      };
    },
  };
}

function decontaminateStream(
  cfg: DecontaminateConfig,
  ctx: OperatorContext,
): OperatorFunction<RecordBatch<Text>, RecordBatch<Text>> {
  return (source) =>
    defer(() => {
      let state: { tally: ContaminationTally; spec: RowSpec } | undefined;
      // started at subscription, so the tasks load and the index is built while the first batches are read
      const opening = (async () => {
        const tasks = await loadTasks(cfg.tasks);
        const evalIndex = await indexTasks(tasks, { n: cfg.n, minWords: cfg.minWords });
        const items = evalIndex.tasks.reduce((s, t) => s + t.items, 0);
        ctx.log(`${items} eval items of ${tasks.length} task(s) as ${evalIndex.index.keys} distinct ${cfg.n}-grams`);
        const tally = new ContaminationTally(evalIndex);
        state = { tally, spec: rowsOf(cfg, tally) };
        return state;
      })();
      opening.catch(() => {}); // reported when the first batch (or the end) awaits it
      const open = () => opening;
      const step = (
        s: NonNullable<typeof state>,
        batch: RecordBatch<Text>,
        emit: (b: RecordBatch<Text>) => void,
        i: number,
      ) => {
        let out: RecordBatch;
        try {
          out = runRows(s.spec, batch as unknown as RecordBatch);
        } catch (err) {
          throw kernelFailure(ctx.nodeId, err, i);
        }
        recordKernelStats(out, ctx.stats);
        if (out.numRows > 0) emit(out as unknown as RecordBatch<Text>);
      };
      return source.pipe(
        operate<Text, Text>(
          (batch, emit, i) => (state ? step(state, batch, emit, i) : open().then((s) => step(s, batch, emit, i))),
          {
            ctx,
            state: 'absorb',
            flush: async () => {
              const s = state ?? (await open());
              if (cfg.report) writeReport(cfg.report, s.tally.report(cfg.mode));
            },
          },
        ),
      );
    });
}

export const decontaminate = defineOperator({
  id: 'eval/decontaminate',
  description:
    'drop (or flag) training documents sharing a word 13-gram with eval tasks; report contaminated eval items',
  config: Config,
  input: textSchema,
  passthrough: true,
  output: textSchema,
  make: (cfg, ctx) => decontaminateStream(cfg, ctx),
});
