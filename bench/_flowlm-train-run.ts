// One `flowlm train pipelines/train-tiny.ts` run for the benches (ddp, train): its JSON summary, the
// per-step train losses from the run's metrics.jsonl and the wall time each step's progress line came,
// from which tokens/s is taken between the end of the first step and the end of the last (start-up,
// the first step's kernel set-up, the final evaluation and checkpoint are not counted).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../src/cli/bin.js', import.meta.url));
const PIPELINE = fileURLToPath(new URL('../pipelines/train-tiny.ts', import.meta.url));

export interface RunFigures {
  summary: Record<string, unknown>;
  losses: number[];
  wallMs: number;
  stepTimes: number[];
}

/** GPT-2-tokenized shards of the embedded corpus at `dir` (a re-run keeps verified shards). */
export function prepShards(dir: string): void {
  execFileSync(
    process.execPath,
    [BIN, 'prep', '--out', dir, '--encoding', 'gpt2', '--seq-len', '128', '--progress', 'none', '--json'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

/** The train split's per-step values in a run directory's metrics.jsonl. */
function trainSeries(runDir: string): Map<number, Record<string, number>> {
  const out = new Map<number, Record<string, number>>();
  for (const line of readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as { step: number; split: string; name?: unknown; value?: unknown };
    if (r.split !== 'train') continue;
    const row = out.get(r.step) ?? {};
    if (typeof r.name === 'string' && typeof r.value === 'number') row[r.name] = r.value;
    else for (const [k, v] of Object.entries(r)) if (typeof v === 'number') row[k] = v;
    out.set(r.step, row);
  }
  return out;
}

/** One run on `devices` with `sets`; `who` names the bench in errors. */
export async function flowlmTrain(
  who: string,
  devices: string,
  sets: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<RunFigures> {
  const runDir = mkdtempSync(join(tmpdir(), 'flowlm-bench-'));
  const args = [BIN, 'train', PIPELINE, '--devices', devices, '--json', '--set', `trainer.runDir=${runDir}`];
  for (const s of sets) args.push('--set', s);
  const t0 = performance.now();
  const stepTimes: number[] = [];
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    const text = d.toString();
    err += text;
    // one progress line per step (--every 1): its arrival time marks the step's end
    for (const line of text.split('\n')) if (/^step \d+\//.test(line)) stepTimes.push(performance.now());
  });
  const code = await new Promise<number>((r) => child.on('close', (c) => r(c ?? -1)));
  const wallMs = performance.now() - t0;
  try {
    if (code !== 0)
      throw new Error(`bench ${who}: flowlm train --devices ${devices} exited ${code}:\n${err.slice(-2000)}`);
    const summary = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
    const series = trainSeries(runDir);
    const losses = [...series.keys()].sort((a, b) => a - b).map((s) => series.get(s)!.loss!);
    return { summary, losses, wallMs, stepTimes };
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
}

/** Tokens/s between the first and the last step's end; `tokensPerStep` over all replicas. */
export function tokensPerSecond(who: string, f: RunFigures, tokensPerStep: number): number {
  if (f.stepTimes.length < 2)
    throw new Error(`bench ${who}: the run printed ${f.stepTimes.length} progress lines; need steps >= 2`);
  return (tokensPerStep * (f.stepTimes.length - 1)) / ((f.stepTimes.at(-1)! - f.stepTimes[0]!) / 1000);
}
