// `flowlm report`: runs of the store as one self-contained HTML file (vega's browser builds, the chart
// builder and the data inlined: it opens from file:// with no network) with the runs' summary and the
// dashboard's charts (chart-spec.ts, a smoothing slider included), plus each chart as SVG (vega's
// View.toSVG() in Node, renderer 'none') and PNG (that SVG rasterized by resvg). Recorded as an
// artifact (kind 'report') of every run in it.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { StoreError, type RunStore } from '../runs/store.ts';
import { browserGlobal, VENDOR, vendorFile } from './browser-module.ts';
import { DEFAULT_SMOOTHING, chartRows, chartSpec, clampSmoothing, orderKeys } from './chart-spec.ts';
import { reportHtml } from './report-html.ts';
import { metricPairs, runSummary, seriesOf, type RunSummary } from './run-summary.ts';

export interface ReportOptions {
  store: RunStore;
  /** run ids or unique id prefixes */
  runs: readonly string[];
  outDir: string;
  smoothing?: number;
  /** PNG pixels per SVG pixel (default 2: sharp on a high-density screen) */
  pngScale?: number;
}

export interface ReportChart {
  key: string;
  svg: string;
  png: string;
  /** the SVG's size in pixels (the PNG is pngScale times it) */
  width: number;
  height: number;
}

export interface Report {
  html: string;
  runs: RunSummary[];
  charts: ReportChart[];
}

/** A file name for a metric key: train/loss -> train-loss (keys that collide get -2, -3, ...). */
function fileNames(keys: readonly string[]): Map<string, string> {
  const used = new Set<string>();
  const out = new Map<string, string>();
  for (const k of keys) {
    const base = k.replace(/[^A-Za-z0-9_.]+/g, '-').replace(/^-+|-+$/g, '') || 'metric';
    let name = base;
    for (let i = 2; used.has(name); i++) name = `${base}-${i}`;
    used.add(name);
    out.set(k, name);
  }
  return out;
}

async function renderSvg(spec: ReturnType<typeof chartSpec>): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function writeReport(opts: ReportOptions): Promise<Report> {
  const { store } = opts;
  if (opts.runs.length === 0) throw new StoreError('a report needs at least one run id');
  const runs = opts.runs.map((id) => {
    const run = store.run(id);
    if (!run) throw new StoreError(`no run "${id}" in the store ${store.path} (flowlm ui lists the runs)`);
    return runSummary(store, run);
  });
  const smoothing = clampSmoothing(opts.smoothing ?? DEFAULT_SMOOTHING);
  const scale = opts.pngScale ?? 2;
  const pairs = new Map(runs.map((r) => [r.id, metricPairs(store, r.id)]));
  const keys = orderKeys(runs.flatMap((r) => Object.keys(pairs.get(r.id)!)));
  const labels = runs.map((r) => r.label);
  const names = fileNames(keys);
  const outDir = resolve(opts.outDir);
  mkdirSync(outDir, { recursive: true });

  const charts: ReportChart[] = [];
  for (const key of keys) {
    const spec = chartSpec(key, chartRows(seriesOf(key, runs, pairs), smoothing), { smoothing, labels });
    const svg = await renderSvg(spec);
    const width = Number(/<svg[^>]*\swidth="([\d.]+)"/.exec(svg)?.[1]);
    const height = Number(/<svg[^>]*\sheight="([\d.]+)"/.exec(svg)?.[1]);
    const base = join(outDir, names.get(key)!);
    writeFileSync(`${base}.svg`, svg);
    const png = new Resvg(svg, { fitTo: { mode: 'zoom', value: scale }, background: 'white' }).render().asPng();
    writeFileSync(`${base}.png`, png);
    charts.push({ key, svg: `${base}.svg`, png: `${base}.png`, width, height });
  }

  const html = join(outDir, 'report.html');
  writeFileSync(
    html,
    reportHtml({
      runs,
      keys,
      pairs: Object.fromEntries(pairs),
      smoothing,
      files: Object.fromEntries(keys.map((k) => [k, names.get(k)!])),
      storePath: store.path,
      scripts: [
        ...Object.keys(VENDOR).map((name) => vendorFile(name)!),
        browserGlobal('./chart-spec.ts', 'flowlmCharts'),
      ],
    }),
  );
  const bytes = statSync(html).size;
  for (const r of runs) store.logArtifact(r.id, { path: html, kind: 'report', bytes });
  return { html, runs, charts };
}
