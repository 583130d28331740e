// `npm run bench -- clean [--rounds N] [--pages N] [--readability-every N] [--kernel-every N]`: the
// cleaning chain extract-html -> normalize -> quality -> language -> pii on Debian's PostgreSQL HTML
// manual, single thread, as plain RxJS over Arrow batches. Reports mb_per_s of HTML through the whole
// chain (median of rounds) and each stage's MB/s of its own input (its busy time). For extraction
// (default mode 'fast'): the kernel's MB/s alone (wall, and per CPU second: the per-core figure on a
// shared machine), and on every Nth page the Readability mode in the same process as the baseline,
// with the token F1 of the fast text against Readability's (median, worst 5 pages); the same F1 on a
// sample of the Linux kernel's Sphinx HTML (linux-doc-6.1). The whole chain again as a pipeline on the
// worker pool (`--workers N`, default 2): its MB/s of HTML. Language ID: the fast engine's labels against
// franc's on Debian's translated manual pages over 200 characters (bench/_language-agreement.ts; every
// page with `--man-per-lang 0`), with both engines' MB/s in the same run.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { Utf8, type RecordBatch } from 'apache-arrow';
import { from, lastValueFrom, toArray } from 'rxjs';
import { OperatorStats } from '../src/core/stats.ts';
import { batchFromColumns, schemaOf } from '../src/schema/index.ts';
import { extractHtml } from '../operators/clean/extract-html.ts';
import { language } from '../operators/clean/language.ts';
import { normalize } from '../operators/clean/normalize.ts';
import { pii } from '../operators/clean/pii.ts';
import { quality } from '../operators/clean/quality.ts';
import { cleanOnWorkers } from './_clean-workers.ts';
import { fastSpeed, htmlPages, versusReadability } from './_extract-quality.ts';
import { languageAgreement, MAN_ROOT, manpageDocs } from './_language-agreement.ts';

const PG_HTML = '/usr/share/doc/postgresql-doc-15/html';
const KERNEL_HTML = '/usr/share/doc/linux-doc-6.1/html';
const BATCH_ROWS = 64;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const round2 = (x: number) => Math.round(x * 100) / 100;

const STAGES = [
  { name: 'extract', op: extractHtml, config: {} },
  { name: 'normalize', op: normalize, config: {} },
  { name: 'quality', op: quality, config: {} },
  { name: 'language', op: language, config: { allowed: ['en'] } },
  { name: 'pii', op: pii, config: {} },
] as const;

type Stage = (typeof STAGES)[number];
type Factory = (
  config: unknown,
  ctx: { stats: OperatorStats },
) => (s: ReturnType<typeof from<RecordBatch[]>>) => ReturnType<typeof from<RecordBatch[]>>;

async function chainOnce(batches: RecordBatch[]) {
  const stats = STAGES.map((s) => new OperatorStats(s.name));
  const ops = STAGES.map((s: Stage, i) => (s.op as unknown as Factory)(s.config, { stats: stats[i]! }));
  const t0 = performance.now();
  const out = await lastValueFrom(ops.reduce((src, op) => op(src), from(batches)).pipe(toArray()));
  return {
    ms: performance.now() - t0,
    stats: stats.map((s) => s.snapshot()),
    rowsOut: out.reduce((a, b) => a + b.numRows, 0),
  };
}

export default async function clean(args: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args,
    options: {
      rounds: { type: 'string', default: '3' },
      pages: { type: 'string' },
      'readability-every': { type: 'string', default: '4' },
      'kernel-every': { type: 'string', default: '40' },
      workers: { type: 'string', default: '2' },
      'man-per-lang': { type: 'string', default: '0' },
    },
  });
  const rounds = Math.max(1, Number(values.rounds));
  let files = readdirSync(PG_HTML)
    .filter((f) => f.endsWith('.html'))
    .sort();
  if (values.pages) files = files.slice(0, Number(values.pages));
  const htmls = files.map((f) => readFileSync(join(PG_HTML, f), 'utf8'));
  const bytes = htmls.reduce((a, h) => a + Buffer.byteLength(h), 0);
  const schema = schemaOf<{ text: Utf8 }>({ text: { type: new Utf8() } });
  const batches: RecordBatch[] = [];
  for (let i = 0; i < htmls.length; i += BATCH_ROWS)
    batches.push(batchFromColumns(schema, { text: htmls.slice(i, i + BATCH_ROWS) }) as unknown as RecordBatch);
  console.log(
    `clean: ${files.length} pages, ${(bytes / 1e6).toFixed(1)} MB of HTML from ${PG_HTML}, ${rounds} rounds, one thread`,
  );

  const runs: Array<Awaited<ReturnType<typeof chainOnce>>> = [];
  for (let r = 0; r < rounds; r++) {
    runs.push(await chainOnce(batches));
    console.log(`  round ${r + 1}: chain ${(runs[r]!.ms / 1000).toFixed(2)} s`);
  }
  const kernel = fastSpeed(htmls, batches, Math.max(3, rounds));
  console.log(
    `  fast extraction alone: ${kernel.wall.toFixed(1)} MB/s, ${kernel.cpu.toFixed(1)} MB per CPU second; ` +
      `as the operator's batch kernel: ${kernel.opWall.toFixed(1)} MB/s, ${kernel.opCpu.toFixed(1)} MB per CPU second`,
  );
  const every = Math.max(1, Number(values['readability-every']));
  const pg = versusReadability(files.map((name, i) => ({ name, html: htmls[i]! })).filter((_, i) => i % every === 0));
  console.log(
    `  every ${every}th page (${pg.pages}): fast ${pg.fast_mb_per_s} MB/s, readability ${pg.readability_mb_per_s} MB/s, ` +
      `F1 median ${pg.f1_median}, worst ${JSON.stringify(pg.f1_worst5)}`,
  );
  const kernelEvery = Number(values['kernel-every']);
  const kdoc =
    kernelEvery > 0 && existsSync(KERNEL_HTML) ? versusReadability(htmlPages(KERNEL_HTML, kernelEvery)) : null;
  if (kdoc)
    console.log(
      `  linux-doc, every ${kernelEvery}th page (${kdoc.pages}): F1 median ${kdoc.f1_median}, worst ${JSON.stringify(kdoc.f1_worst5)}`,
    );
  const workers = Math.max(1, Number(values.workers));
  const pooled = await cleanOnWorkers(batches, workers, rounds);
  console.log(
    `  the chain on ${workers} worker threads: ${(bytes / 1e6 / (pooled.ms / 1000)).toFixed(1)} MB/s ` +
      `(${(pooled.ms / 1000).toFixed(2)} s, CPU ${(pooled.cpuMs / 1000).toFixed(2)} s), ${pooled.rowsOut} rows out`,
  );
  const perLang = Number(values['man-per-lang']);
  const lang = existsSync(join(MAN_ROOT, 'de'))
    ? await languageAgreement({ rounds, docs: manpageDocs(perLang > 0 ? { maxPerLang: perLang } : {}) })
    : null;
  if (lang)
    console.log(
      `  language ID on ${lang.docs} translated manual pages (${lang.mb} MB): agreement with franc ${lang.agreement}; ` +
        `fast ${lang.fast_mb_per_s} MB/s, franc ${lang.franc_mb_per_s} MB/s`,
    );
  const chainMs = median(runs.map((r) => r.ms));
  const stage: Record<string, number> = {};
  STAGES.forEach((s, i) => {
    const mbps = runs.map((r) => r.stats[i]!.bytesIn / 1e6 / (Math.max(1, r.stats[i]!.busyMs) / 1000));
    stage[`${s.name}_mb_per_s`] = round2(median(mbps));
  });
  const last = runs[runs.length - 1]!;
  for (const [i, s] of STAGES.entries()) {
    const st = last.stats[i]!;
    console.log(
      `  ${s.name.padEnd(9)} ${String(stage[`${s.name}_mb_per_s`]).padStart(7)} MB/s  rows ${st.rowsIn} -> ${st.rowsOut}  ${JSON.stringify(st.dropReasons)}${st.counters ? ` ${JSON.stringify(st.counters)}` : ''}`,
    );
  }
  return {
    bench: 'clean',
    pages: files.length,
    mb: round2(bytes / 1e6),
    rounds,
    mb_per_s: round2(bytes / 1e6 / (chainMs / 1000)),
    ...stage,
    extract_kernel_mb_per_s: round2(kernel.wall),
    extract_kernel_mb_per_cpu_s: round2(kernel.cpu),
    extract_op_mb_per_s: round2(kernel.opWall),
    extract_op_mb_per_cpu_s: round2(kernel.opCpu),
    extract_sample_pages: pg.pages,
    extract_sample_fast_mb_per_s: round2(pg.fast_mb_per_s),
    extract_sample_readability_mb_per_s: round2(pg.readability_mb_per_s),
    extract_fast_vs_readability: round2(pg.fast_mb_per_s / pg.readability_mb_per_s),
    extract_f1_median: pg.f1_median,
    extract_f1_worst5: pg.f1_worst5,
    extract_recall_median: pg.recall_median,
    ...(kdoc
      ? {
          kernel_doc_pages: kdoc.pages,
          kernel_doc_f1_median: kdoc.f1_median,
          kernel_doc_f1_worst5: kdoc.f1_worst5,
        }
      : {}),
    workers,
    workers_mb_per_s: round2(bytes / 1e6 / (pooled.ms / 1000)),
    workers_cpu_s: round2(pooled.cpuMs / 1000),
    ...(lang
      ? {
          lang_docs: lang.docs,
          lang_agreement: lang.agreement,
          lang_fast_mb_per_s: lang.fast_mb_per_s,
          lang_franc_mb_per_s: lang.franc_mb_per_s,
          lang_fast_mb_per_cpu_s: lang.fast_mb_per_cpu_s,
        }
      : {}),
    docs_in: htmls.length,
    docs_out: last.rowsOut,
  };
}
