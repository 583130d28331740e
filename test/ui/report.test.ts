// `flowlm report` on two real trainings: report.html opened over file:// in chromium with every request
// but file: aborted (it must need no network) draws each run's points; each chart's SVG parses (in
// chromium's XML parser) with one line per run and layer, as many vertices as the run has points; each
// PNG is a PNG of twice the SVG's size; the report is recorded as an artifact of both runs.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunStore } from '../../src/runs/store.ts';
import { flowlm } from '../cli/spawn.ts';
import {
  ARTIFACTS,
  collectErrors,
  launchChromium,
  pointCount,
  trainedStore,
  type TrainedRun,
} from './trained-store.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-report-'));
let store: string;
let runs: [TrainedRun, TrainedRun];
let browser: Browser;

beforeAll(async () => {
  [{ store, runs }, browser] = await Promise.all([trainedStore(tmp), launchChromium()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('flowlm report', () => {
  it('writes a self-contained report.html, an SVG and a PNG per chart, and records it in the store', async () => {
    const [a, b] = runs;
    const out = join(tmp, 'report');
    const r = await flowlm(['report', a.id, b.id, '--out', out, '--store', store]);
    expect(r.code, r.stderr).toBe(0);
    const html = join(out, 'report.html');
    expect(r.stdout.trim()).toBe(html);

    const s = RunStore.open(store, { reap: false });
    const keys = [...new Set([...s.metricKeys(a.id), ...s.metricKeys(b.id)])];
    expect(keys).toEqual(expect.arrayContaining(['train/loss', 'val/loss', 'train/lr']));
    for (const run of runs)
      expect(s.artifacts(run.id)).toContainEqual(
        expect.objectContaining({ path: html, kind: 'report', bytes: readFileSync(html).length }),
      );

    // the page, offline: only file: URLs load
    const context = await browser.newContext({ viewport: { width: 1300, height: 1000 } });
    const blocked: string[] = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      blocked.push(url);
      return route.abort();
    });
    const page = await context.newPage();
    const errors = collectErrors(page);
    await page.goto(pathToFileURL(html).href);
    await page.waitForSelector('body[data-rendered]', { timeout: 10_000 });
    await expect(page.locator('#runs tbody tr').count()).resolves.toBe(2);
    for (const run of runs) {
      expect(await pointCount(page, 'train/loss', run.id)).toBe(run.steps);
      expect(await pointCount(page, 'train/lr', run.id)).toBe(run.steps);
      expect(await pointCount(page, 'val/loss', run.id)).toBe(1);
    }
    expect(await page.locator('.chart').count()).toBe(keys.length);
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
    // the slider works offline too: at 0 the smoothed line is the stored values
    await page.locator('#smoothing').fill('0');
    await page.waitForSelector('body[data-rendered="0"]', { timeout: 10_000 });
    const shown = (await page.evaluate(`window.__flowlmViews['train/loss'].data('points')
      .filter((r) => r.run === ${JSON.stringify(a.id)}).map((r) => r.smoothed)`)) as number[];
    expect(shown).toEqual(s.metrics(a.id, 'train/loss').map((p) => p.value));
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);

    // each chart's SVG: parsed as XML by chromium; train/loss has a raw and a smoothed line per run
    for (const key of keys) {
      const base = join(out, key.replace('/', '-'));
      const svgText = readFileSync(`${base}.svg`, 'utf8');
      await page.goto(pathToFileURL(`${base}.svg`).href);
      // (run in the page: a string, since the tests compile without the DOM's types)
      const parsed = (await page.evaluate(`(() => {
        const svg = document.documentElement;
        return {
          root: svg.tagName,
          errors: document.getElementsByTagName('parsererror').length,
          paths: document.querySelectorAll('path').length,
          // vertices of each line mark's path: "M x,y L x,y ..." (one per point)
          lines: [...document.querySelectorAll('.mark-line path')].map((p) => (p.getAttribute('d') ?? '').match(/[ML]/g)?.length ?? 0),
          width: Number(svg.getAttribute('width')),
          height: Number(svg.getAttribute('height')),
        };
      })()`)) as { root: string; errors: number; paths: number; lines: number[]; width: number; height: number };
      expect(parsed.root, key).toBe('svg');
      expect(parsed.errors, key).toBe(0);
      expect(parsed.paths, key).toBeGreaterThan(0);
      if (key === 'train/loss' || key === 'train/lr')
        expect(parsed.lines.sort(), key).toEqual([a.steps, a.steps, b.steps, b.steps].sort());
      expect(svgText).toContain(a.id.slice(0, 8));

      // the PNG: its signature, and IHDR's width and height twice the SVG's (pngScale 2)
      const png = readFileSync(`${base}.png`);
      expect(png.subarray(0, 8).equals(PNG_SIGNATURE), key).toBe(true);
      expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
      expect([png.readUInt32BE(16), png.readUInt32BE(20)], key).toEqual([
        Math.round(parsed.width * 2),
        Math.round(parsed.height * 2),
      ]);
    }
    await context.close();
    s.close();
  }, 30_000);

  it('writes to reports/<first run id>/ by default', async () => {
    const r = await flowlm(['report', runs[1].id.slice(0, 10), '--store', store], { cwd: tmp });
    expect(r.code, r.stderr).toBe(0);
    const html = join(tmp, 'reports', runs[1].id, 'report.html');
    expect(r.stdout.trim()).toBe(html);
    expect(existsSync(html)).toBe(true);
    expect(existsSync(join(tmp, 'reports', runs[1].id, 'train-loss.png'))).toBe(true);
  }, 20_000);
});
