// Extraction figures for bench/clean.ts: the fast extractor's speed alone (wall and CPU time, median
// of rounds: CPU time is the per-core figure on a shared machine), and on a sample of pages the
// Readability mode as the baseline in the same process, with the token F1 of the fast text against
// Readability's (median, worst pages) and its recall (the share of Readability's tokens fast keeps).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { extractHtml, extractMainText } from '../operators/clean/extract-html.ts';
import { tokenBag, tokenF1 } from './_extract-f1.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const mbOf = (htmls: string[]) => htmls.reduce((a, h) => a + Buffer.byteLength(h), 0) / 1e6;
const textOf = (x: ReturnType<typeof extractMainText>) => ('drop' in x ? '' : x.text);

/** HTML files under `dir` (recursively), sorted, every `every`-th one. */
export function htmlPages(dir: string, every = 1): Array<{ name: string; html: string }> {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.html'))
    .sort()
    .filter((_, i) => i % every === 0)
    .map((name) => ({ name, html: readFileSync(join(dir, name), 'utf8') }));
}

type Kernel = (batch: RecordBatch) => RecordBatch;

/** The fast extractor alone over `htmls`, and the operator's batch kernel (Arrow in and out, as the
 * worker pool runs it) over `batches`: MB/s by wall and by this thread's CPU time. */
export function fastSpeed(htmls: string[], batches: RecordBatch[], rounds: number) {
  const cfg = extractHtml.def.config.parse({});
  const kernel = (extractHtml.def as unknown as { kernel: (c: typeof cfg) => Kernel }).kernel(cfg);
  const mb = mbOf(htmls);
  const figures = { wall: [] as number[], cpu: [] as number[], opWall: [] as number[], opCpu: [] as number[] };
  const time = (f: () => void, wall: number[], cpu: number[]) => {
    const t0 = performance.now();
    const c0 = process.cpuUsage().user;
    f();
    cpu.push(mb / ((process.cpuUsage().user - c0) / 1e6));
    wall.push(mb / ((performance.now() - t0) / 1000));
  };
  for (let r = 0; r < rounds; r++) {
    time(() => htmls.forEach((h) => extractMainText(h, cfg)), figures.wall, figures.cpu);
    time(() => batches.forEach((b) => kernel(b)), figures.opWall, figures.opCpu);
  }
  return {
    wall: median(figures.wall),
    cpu: median(figures.cpu),
    opWall: median(figures.opWall),
    opCpu: median(figures.opCpu),
  };
}

function recall(candidate: string, reference: string): number {
  const c = tokenBag(candidate);
  let n = 0;
  let kept = 0;
  for (const [t, v] of tokenBag(reference)) {
    n += v;
    kept += Math.min(v, c.get(t) ?? 0);
  }
  return n === 0 ? 1 : kept / n;
}

/** Fast against Readability on the same pages (one pass each: Readability is ~50x slower). */
export function versusReadability(pages: Array<{ name: string; html: string }>) {
  const fast = extractHtml.def.config.parse({});
  const readability = extractHtml.def.config.parse({ mode: 'readability' });
  const htmls = pages.map((p) => p.html);
  const mb = mbOf(htmls);
  let t0 = performance.now();
  const a = htmls.map((h) => textOf(extractMainText(h, fast)));
  const fastMs = performance.now() - t0;
  t0 = performance.now();
  const b = htmls.map((h) => textOf(extractMainText(h, readability)));
  const readabilityMs = performance.now() - t0;
  const f1 = pages.map((p, i) => ({ page: p.name, f1: r3(tokenF1(a[i]!, b[i]!)) })).sort((x, y) => x.f1 - y.f1);
  return {
    pages: pages.length,
    mb: r3(mb),
    fast_mb_per_s: r3(mb / (fastMs / 1000)),
    readability_mb_per_s: r3(mb / (readabilityMs / 1000)),
    f1_median: median(f1.map((x) => x.f1)),
    f1_worst5: f1.slice(0, 5),
    // of Readability's tokens, the share the fast text has too (low F1 with high recall: fast kept
    // more than Readability, e.g. the prose around a table Readability elected alone)
    recall_median: r3(median(pages.map((_, i) => recall(a[i]!, b[i]!)))),
  };
}
