// The run's metrics, written two ways into the run directory: `metrics.jsonl`, appended and flushed
// batch by batch so it can be followed live and survives a kill, and `metrics.parquet`, converted from
// that log when the stream ends, however it ends (completed, cancelled or failed: the rows written so
// far are a record of what happened). The Parquet file appears atomically. With `resumeStep`, a resumed
// run keeps the log's rows up to that step and appends (the step's own rows from its checkpoint when a
// kill came between the checkpoint and the log); otherwise the log starts empty.
import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { defineSink } from '../../src/core/operator.ts';
import { FlowError } from '../../src/core/errors.ts';
import { AtomicFile } from '../../src/runtime/files.ts';
import { ParquetWriter, type ParquetCodec } from '../../src/runtime/parquet-writer.ts';
import { metricsSchema } from '../../src/schema/columns.ts';
import { conformBatch } from '../../src/schema/conform.ts';
import { metricRows, metricsFromRows, type MetricRow } from '../../src/schema/metrics.ts';
import { metricLine, readMetricLines } from './metrics-jsonl.ts';
import { trainerField, trainerOf } from './trainer-field.ts';
import { withCurrentRun } from '../../src/runs/current-run.ts';

const Config = z.object({
  trainer: trainerField
    .optional()
    .describe(
      'the nn/trainer resource whose run this logs: dir defaults to its runDir, and a resumed run keeps the log up ' +
        'to its checkpoint',
    ),
  dir: z.string().min(1).optional().describe("the run directory (default: the trainer's runDir)"),
  name: z
    .string()
    .regex(/^[\w.-]+$/)
    .default('metrics')
    .describe('file name stem: <name>.jsonl and <name>.parquet'),
  resumeStep: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe("resuming: keep the existing log's rows up to this step and append"),
  compression: z
    .enum(['snappy', 'zstd', 'gzip', 'brotli', 'lz4', 'none'])
    .default('snappy')
    .describe('Parquet codec of <name>.parquet (snappy: fast, read by every Parquet reader; zstd: smaller)'),
  rowGroupRows: z.number().int().min(1).default(65_536).describe('rows per row group of <name>.parquet'),
});

const BATCH_ROWS = 8192; // rows per batch handed to the Parquet writer when converting the log

/** Opens the log for appending: emptied for a new run, cut back to `resumeStep` for a resumed one (and
 * whether it holds rows of that step). */
async function openLog(
  path: string,
  resumeStep: number | undefined,
): Promise<{ fh: FileHandle; hasResumeStep: boolean }> {
  if (resumeStep === undefined) return { fh: await open(path, 'w'), hasResumeStep: false };
  const kept = new AtomicFile(path);
  let hasResumeStep = false;
  try {
    for await (const r of readMetricLines(path)) {
      if (r.step > resumeStep) continue;
      hasResumeStep ||= r.step === resumeStep;
      await kept.write(metricLine(r));
    }
    await kept.commit();
  } catch (err) {
    await kept.abort();
    throw err;
  }
  return { fh: await open(path, 'a'), hasResumeStep };
}

/** The whole log as a Parquet file (zero rows gives a file with the schema and no rows). */
async function logToParquet(
  log: string,
  path: string,
  opts: { compression: ParquetCodec; rowGroupRows: number },
): Promise<number> {
  const schema = metricsSchema();
  const file = new AtomicFile(path);
  const writer = new ParquetWriter(file, opts);
  let rows: MetricRow[] = [];
  let total = 0;
  try {
    for await (const r of readMetricLines(log)) {
      rows.push(r);
      if (rows.length === BATCH_ROWS) {
        await writer.write(metricsFromRows(rows, schema));
        total += rows.length;
        rows = [];
      }
    }
    if (rows.length > 0 || !writer.started) {
      await writer.write(metricsFromRows(rows, schema));
      total += rows.length;
    }
    await writer.finish();
    await file.commit();
    return total;
  } catch (err) {
    await writer.abort(err);
    await file.abort();
    throw err;
  }
}

export const writeMetrics = defineSink({
  id: 'train/metrics-sink',
  description: 'write training metrics to <dir>/metrics.jsonl (live, appended) and <dir>/metrics.parquet (at the end)',
  config: Config.refine((c) => c.dir !== undefined || c.trainer !== undefined, {
    message: 'give dir (the run directory) or trainer (an nn/trainer resource)',
    path: ['dir'],
  }),
  placement: 'rank0',
  input: () => metricsSchema(),
  make: (cfg, ctx) => {
    const schema = metricsSchema();
    let log: Promise<FileHandle> | undefined;
    let finished: Promise<string[]> | undefined;
    let batches = 0;
    let warned = false;
    const warnOnce = (m: string) => {
      if (!warned) ctx.log(m);
      warned = true;
    };
    // the run directory and resume point: the config's, or the trainer's once its replica is open
    let placed: Promise<{ dir: string; resumeStep?: number; recorded?: readonly MetricRow[] }> | undefined;
    const place = () =>
      (placed ??= (async () => {
        if (!cfg.trainer) return { dir: resolve(cfg.dir!), resumeStep: cfg.resumeStep };
        const rep = await (await trainerOf(ctx, cfg.trainer)).replica();
        return {
          dir: resolve(cfg.dir ?? rep.cfg.runDir),
          resumeStep: cfg.resumeStep ?? (rep.startStep > 0 ? rep.startStep : undefined),
          recorded: rep.checkpointMetrics,
        };
      })());
    const paths = async () => {
      const { dir } = await place();
      return { jsonl: join(dir, `${cfg.name}.jsonl`), parquet: join(dir, `${cfg.name}.parquet`) };
    };
    const handle = () =>
      (log ??= (async () => {
        const { dir, resumeStep, recorded } = await place();
        mkdirSync(dir, { recursive: true });
        withCurrentRun((r) => r.setRunDir(dir), warnOnce);
        const { fh, hasResumeStep } = await openLog((await paths()).jsonl, resumeStep);
        // killed after the checkpoint of the resume step and before its rows reached the log: the rows
        // the checkpoint recorded go back in
        if (resumeStep !== undefined && !hasResumeStep && recorded?.length) {
          await fh.appendFile(recorded.map(metricLine).join(''));
          withCurrentRun((r) => r.logMetricRows(recorded), warnOnce);
        }
        return fh;
      })());
    const finish = () =>
      (finished ??= (async () => {
        // a training run that ended before its replica opened has no run directory to write to
        if (
          !log &&
          cfg.trainer &&
          !(await place().then(
            () => true,
            () => false,
          ))
        )
          return [];
        const { jsonl, parquet } = await paths();
        await (await handle()).close();
        const rows = await logToParquet(jsonl, parquet, cfg).catch((err: unknown) => {
          throw new FlowError(
            ctx.nodeId,
            `could not write ${parquet} from ${jsonl}: ${err instanceof Error ? err.message : String(err)}`,
            { file: jsonl },
            { cause: err },
          );
        });
        ctx.log(`${rows} metric rows in ${parquet}`);
        return [jsonl, parquet];
      })());

    return {
      write: async (batch) => {
        const same = conformBatch(batch, schema);
        if (typeof same === 'string')
          throw new FlowError(ctx.nodeId, `batch ${batches} is not a Metrics batch: ${same}`, { batch: batches });
        // one write per batch, no buffering of ours: the rows are in the file when it returns
        const rows = metricRows(same);
        await (await handle()).appendFile(rows.map(metricLine).join(''));
        // and into the run store when this is a recorded run (src/runs/current-run.ts)
        withCurrentRun((r) => r.logMetricRows(rows), warnOnce);
        batches++;
      },
      close: () => finish(),
      abort: async (err) => {
        try {
          await finish();
        } catch (e) {
          ctx.log(
            `after ${err instanceof Error ? err.message : String(err)}: ${e instanceof Error ? e.message : String(e)}`,
          );
        }
      },
    };
  },
});

export type WriteMetricsConfig = z.input<typeof Config>;
