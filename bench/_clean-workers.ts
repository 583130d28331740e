// The cleaning chain as a pipeline run on the worker pool: every stage with `workers: N`, over the same
// in-memory batches of HTML as bench clean's single-thread chain. The pool is started and warmed (a
// first run) before timing; figures are medians of rounds, with the process's CPU time (all threads).
import { RecordBatch, type Utf8 } from 'apache-arrow';
import { z } from 'zod';
import { defineSource } from '../src/core/operator.ts';
import { runPipeline } from '../src/runtime/run.ts';
import { WorkerPool } from '../src/runtime/worker-pool.ts';
import { schemaOf } from '../src/schema/index.ts';
import { extractHtml } from '../operators/clean/extract-html.ts';
import { language } from '../operators/clean/language.ts';
import { normalize } from '../operators/clean/normalize.ts';
import { pii } from '../operators/clean/pii.ts';
import { quality } from '../operators/clean/quality.ts';

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export async function cleanOnWorkers(
  batches: RecordBatch[],
  workers: number,
  rounds: number,
): Promise<{ ms: number; cpuMs: number; rowsOut: number }> {
  const textSchema = schemaOf<{ text: Utf8 }>({ text: { type: batches[0]!.schema.fields[0]!.type as Utf8 } });
  const html = defineSource({
    id: 'bench/clean-input',
    description: 'the HTML pages in memory',
    config: z.object({}),
    output: () => textSchema,
    async *make() {
      for (const b of batches) yield new RecordBatch(b.schema, b.data) as RecordBatch<{ text: Utf8 }>;
    },
  });
  const spec = {
    name: 'clean-workers',
    steps: [
      { id: 'html', op: html, config: {} },
      { id: 'extract', op: extractHtml, workers, config: {} },
      { id: 'normalize', op: normalize, workers, config: {} },
      { id: 'quality', op: quality, workers, config: {} },
      { id: 'language', op: language, workers, config: { allowed: ['en'] } },
      { id: 'pii', op: pii, workers, config: {} },
    ],
  };
  const pool = new WorkerPool({ size: workers });
  try {
    const once = async () => {
      const c0 = cpuMs();
      const r = await runPipeline(spec, { pool, log: () => undefined });
      if (!r.ok) throw new Error(`bench clean: the chain on ${workers} workers failed: ${r.error?.message}`);
      return { ms: r.durationMs, cpu: cpuMs() - c0, rows: r.nodes.pii?.rowsOut ?? 0 };
    };
    await once(); // threads started, kernels loaded, JIT warmed
    const runs = [];
    for (let i = 0; i < rounds; i++) runs.push(await once());
    return { ms: median(runs.map((r) => r.ms)), cpuMs: median(runs.map((r) => r.cpu)), rowsOut: runs[0]!.rows };
  } finally {
    await pool.close();
  }
}
