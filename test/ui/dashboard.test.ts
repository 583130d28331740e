// `flowlm ui` in a real browser (Debian's chromium through playwright-core): a store holding two real
// trainings, the server on a free port, the page checked through its vega views: the runs table, one
// run's train/loss with one point per step, both runs overlaid, the smoothing slider giving
// TensorBoard's debiased moving average, and a running run's new points appearing as they are logged.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunStore } from '../../src/runs/store.ts';
import { startUiServer, type UiServer } from '../../src/ui/server.ts';
import { start } from '../cli/spawn.ts';
import {
  ARTIFACTS,
  collectErrors,
  launchChromium,
  pointCount,
  trainedStore,
  type TrainedRun,
} from './trained-store.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-ui-'));
let store: string;
let runs: [TrainedRun, TrainedRun];
let server: UiServer;
let browser: Browser;
let page: Page;
let errors: string[];

beforeAll(async () => {
  [{ store, runs }, browser] = await Promise.all([trainedStore(tmp), launchChromium()]);
  server = await startUiServer({ store, port: 0 });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  errors = collectErrors(page);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const box = (id: string) => page.locator(`tr[data-run="${id}"] input[type=checkbox]`);
const until = (key: string, id: string, n: number) =>
  expect.poll(() => pointCount(page, key, id), { timeout: 10_000, interval: 100 }).toBe(n);

describe('flowlm ui in chromium', () => {
  it('lists both runs, charts one run point by point, overlays both, smooths, and follows a running run', async () => {
    await page.goto(server.url);
    await expect.poll(() => page.locator('#runs tbody tr').count()).toBe(2);
    for (const r of runs)
      await expect(page.locator(`tr[data-run="${r.id}"]`).textContent()).resolves.toContain(r.id.slice(0, 8));

    // the newest run is selected on load: its train/loss has one point per step it trained
    const s = RunStore.open(store, { reap: false });
    const newest = runs.find((r) => r.id === s.runs()[0]!.id)!;
    const other = runs.find((r) => r !== newest)!;
    expect(await box(newest.id).isChecked()).toBe(true);
    expect(await box(other.id).isChecked()).toBe(false);
    await until('train/loss', newest.id, newest.steps);
    expect(await pointCount(page, 'train/loss', other.id)).toBe(0);
    // its row: status and the final losses, as stored
    const lastLoss = s.metrics(newest.id, 'train/loss').at(-1)!.value;
    const row = await page.locator(`tr[data-run="${newest.id}"]`).textContent();
    expect(row).toContain('finished');
    expect(row).toContain(`train/loss ${lastLoss.toPrecision(5)}`);
    expect(row).toContain(`trainer.steps=${newest.steps}`);

    // both selected: two series in every chart, each with its own number of points
    await box(other.id).check();
    await until('train/loss', other.id, other.steps);
    expect(await pointCount(page, 'train/loss', newest.id)).toBe(newest.steps);
    expect(await pointCount(page, 'train/lr', other.id)).toBe(other.steps);
    expect(await pointCount(page, 'val/loss', other.id)).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-two-runs.png'), fullPage: true });

    // a run's name opens its details (/api/runs/:id): its command line and its checkpoint artifact
    await page.locator(`tr[data-run="${other.id}"] a`).click();
    await expect.poll(() => page.locator('#details-body').textContent()).toContain(`trainer.steps=${other.steps}`);
    expect(await page.locator('#details-body').textContent()).toMatch(
      new RegExp(`checkpoint\\t\\S*run-${other.steps}/step-0*${other.steps}\\b`),
    );
    await page.locator('#details-close').click();

    // the slider: the chart's smoothed values are the debiased EMA of the stored losses, from its definition
    await page.locator('#smoothing').fill('0.5');
    const w = 0.5;
    const stored = s.metrics(newest.id, 'train/loss').map((p) => p.value);
    const ema = stored.map((_, t) => {
      let num = 0;
      for (let i = 0; i <= t; i++) num += w ** (t - i) * (1 - w) * stored[i]!;
      return num / (1 - w ** (t + 1));
    });
    const smoothed = () =>
      page.evaluate((id) => {
        type Row = { run: string; smoothed: number };
        const v = (globalThis as unknown as { __flowlmViews: Record<string, { data(n: string): Row[] }> })
          .__flowlmViews['train/loss']!;
        return v
          .data('points')
          .filter((r) => r.run === id)
          .map((r) => r.smoothed);
      }, newest.id);
    await expect.poll(async () => (await smoothed())[1]).toBeCloseTo(ema[1]!, 12);
    expect(await smoothed()).toHaveLength(ema.length);
    (await smoothed()).forEach((v, i) => expect(v).toBeCloseTo(ema[i]!, 12));

    // live: a running run (this process writes it) appears; selected, its new points arrive as logged
    const live = s.createRun({ name: 'live run', command: 'train' });
    const log = (from: number, to: number) =>
      s.logMetrics(
        live.id,
        Array.from({ length: to - from + 1 }, (_, i) => ({
          key: 'train/loss',
          step: from + i,
          value: 5 - 0.1 * i,
          time: Date.now(),
        })),
      );
    log(1, 3);
    await expect.poll(() => page.locator('#runs tbody tr').count(), { timeout: 5_000 }).toBe(3);
    await expect(page.locator(`tr[data-run="${live.id}"]`).textContent()).resolves.toContain('running');
    await box(live.id).check();
    await until('train/loss', live.id, 3);
    log(4, 7);
    await until('train/loss', live.id, 7);
    log(8, 8);
    await until('train/loss', live.id, 8);
    s.finishRun(live.id, 'finished');
    await expect
      .poll(() => page.locator(`tr[data-run="${live.id}"] td`).nth(3).textContent(), { timeout: 5_000 })
      .toBe('finished');
    await until('train/loss', live.id, 8);
    expect(await pointCount(page, 'train/loss', other.id)).toBe(other.steps);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-live.png'), fullPage: true });
    s.close();
    expect(errors).toEqual([]);
  }, 30_000);

  it('flowlm ui --port 0 prints its URL, serves the API and vega locally, and stops on SIGTERM', async () => {
    const ui = start(['ui', '--store', store, '--port', '0']);
    await ui.until(() => /http:\/\/127\.0\.0\.1:\d+\//.test(ui.stdout()));
    const url = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(ui.stdout())!;
    expect(Number(url[1])).toBeGreaterThan(0);
    const api = (await (await fetch(new URL('api/runs', url[0]))).json()) as { runs: { id: string }[] };
    expect(api.runs.map((r) => r.id)).toEqual(expect.arrayContaining(runs.map((r) => r.id)));
    const vega = await fetch(new URL('vendor/vega.min.js', url[0]));
    expect(vega.status).toBe(200);
    expect((await vega.text()).length).toBeGreaterThan(100_000);
    // an incremental fetch: the points after a step, as stored
    const [a] = runs;
    const inc = (await (await fetch(new URL(`api/metrics?runs=${a.id}&after=3`, url[0]))).json()) as {
      runs: Record<string, Record<string, [number, number][]>>;
    };
    const s = RunStore.open(store, { reap: false });
    const stored = s.metrics(a.id, 'train/loss', 3).map((p) => [p.step, p.value]);
    s.close();
    expect(stored.map((p) => p[0])).toEqual([4, 5, 6]);
    expect(inc.runs[a.id]!['train/loss']).toEqual(stored);
    expect(inc.runs[a.id]!['val/loss']).toEqual([[6, expect.any(Number)]]);
    const missing = await fetch(new URL(`api/runs/ffffffffffff`, url[0]));
    expect(missing.status).toBe(404);
    ui.child.kill('SIGTERM');
    const done = await ui.done;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).toContain('SIGTERM');
  }, 20_000);
});
