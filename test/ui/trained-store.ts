// A run store holding two real short trainings (`flowlm train`, 6 and 4 steps at different learning
// rates, run at once), for the dashboard and report tests; and chromium (Debian's, never downloaded)
// as playwright-core drives it.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { RunStore } from '../../src/runs/store.ts';
import { flowlm } from '../cli/spawn.ts';
import { writeTrainShards } from '../fixtures/train-shards.ts';
import { microTrainSets } from '../fixtures/micro-train-sets.ts';

export interface TrainedRun {
  id: string;
  steps: number;
  lr: number;
}

export async function trainedStore(dir: string): Promise<{ store: string; runs: [TrainedRun, TrainedRun] }> {
  const shards = join(dir, 'shards');
  await writeTrainShards(shards, 4, 32, 64);
  const store = join(dir, 'runs.sqlite');
  const train = (steps: number, lr: number) =>
    flowlm([
      'train',
      'pipelines/train-tiny.ts',
      '--store',
      store,
      '--devices',
      'cpu:1',
      ...[
        ...microTrainSets(shards),
        `trainer.steps=${steps}`,
        'trainer.evalEvery=0',
        `optimizer.lr.max=${lr}`,
        `trainer.runDir=${join(dir, `run-${steps}`)}`,
      ].flatMap((s) => ['--set', s]),
    ]);
  const results = await Promise.all([train(6, 3e-3), train(4, 1e-3)]);
  for (const r of results) if (r.code !== 0) throw new Error(`flowlm train failed (${r.code}): ${r.stderr}`);
  const s = RunStore.open(store);
  try {
    const bySteps = (n: number): TrainedRun => {
      const run = s.runs().find((r) => s.params(r.id)['trainer.steps'] === n);
      if (!run) throw new Error(`no run of ${n} steps in ${store}`);
      return { id: run.id, steps: n, lr: s.params(run.id)['optimizer.lr.max'] as number };
    };
    return { store, runs: [bySteps(6), bySteps(4)] };
  } finally {
    s.close();
  }
}

export const ARTIFACTS = join(process.cwd(), 'test-artifacts');

export async function launchChromium(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Console errors and uncaught page errors, collected as they happen. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

/** How many points of `runId` the page's chart of `key` holds (its vega view's dataset). */
export const pointCount = (page: Page, key: string, runId: string): Promise<number> =>
  page.evaluate(
    ([k, id]) => {
      type View = { data(name: string): { run: string }[] };
      const views = (globalThis as unknown as { __flowlmViews?: Record<string, View> }).__flowlmViews;
      const view = views?.[k!];
      return view ? view.data('points').filter((r) => r.run === id).length : -1;
    },
    [key, runId],
  );
