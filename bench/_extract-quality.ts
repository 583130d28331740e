// Extraction figures for bench/clean.ts: the fast extractor's speed alone (wall and CPU time, median
// of rounds: CPU time is the per-core figure on a shared machine), and on a sample of pages the
// Readability mode as the baseline in the same process, with the token F1 of the fast text against
// Readability's (median, worst pages) and its recall (the share of Readability's tokens fast keeps).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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

/** The fast extractor's kernel alone over `htmls`: MB/s by wall and by this thread's CPU time. */
export function fastSpeed(htmls: string[], rounds: number) {
  const cfg = extractHtml.def.config.parse({});
  const mb = mbOf(htmls);
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage().user;
    for (const h of htmls) extractMainText(h, cfg);
    cpu.push(mb / ((process.cpuUsage().user - c0) / 1e6));
    wall.push(mb / ((performance.now() - t0) / 1000));
  }
  return { wall: median(wall), cpu: median(cpu) };
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
