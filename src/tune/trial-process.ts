// One trial as a child `flowlm <command>` process: the study's --set values, then the trial's params,
// its own run directory and devices, and the trial's run (created by the tuner) to record into
// (FLOWLM_RUN_ID with FLOWLM_RUN_OWN=1: the child takes the run over and ends it). FLOWLM_TUNER_PID
// makes the child stop (as on SIGTERM) when the tuner dies, so a crashed study leaves no orphans.
// Output goes to <runDir>.log.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ParamValue } from './types.ts';

export interface TrialLaunch {
  command: string;
  file: string;
  sets: readonly string[];
  params: Record<string, ParamValue>;
  runDirKey: string;
  runDir: string;
  devices: string;
  timeLimitS?: number;
  store: string;
  runId: string;
}

export interface TrialProcess {
  readonly pid: number;
  readonly log: string;
  /** exit code (signal deaths as 128 + signal number) */
  readonly exit: Promise<number>;
  stop(): void;
}

const BIN = fileURLToPath(new URL('../cli/bin.js', import.meta.url));
const SIGNALS: Record<string, number> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

export function trialArgs(t: TrialLaunch): string[] {
  const sets = [
    ...t.sets,
    ...Object.entries(t.params).map(([k, v]) => `${k}=${JSON.stringify(v)}`),
    `${t.runDirKey}=${t.runDir}`,
  ];
  return [
    t.command,
    t.file,
    '--devices',
    t.devices,
    '--json',
    '--every',
    '1000000',
    ...(t.timeLimitS === undefined ? [] : ['--time-limit', String(t.timeLimitS)]),
    ...sets.flatMap((s) => ['--set', s]),
  ];
}

export function launchTrial(t: TrialLaunch): TrialProcess {
  rmSync(t.runDir, { recursive: true, force: true }); // a re-run starts afresh
  mkdirSync(dirname(t.runDir), { recursive: true });
  const log = `${t.runDir}.log`;
  const fd = openSync(log, 'w');
  const child = spawn(process.execPath, [BIN, ...trialArgs(t)], {
    stdio: ['ignore', fd, fd],
    env: {
      ...process.env,
      FLOWLM_STORE: t.store,
      FLOWLM_RUN_ID: t.runId,
      FLOWLM_RUN_OWN: '1',
      FLOWLM_TUNER_PID: String(process.pid),
    },
  });
  closeSync(fd);
  const exit = new Promise<number>((resolve) => {
    child.on('error', () => resolve(1));
    child.on('exit', (code, sig) => resolve(code ?? 128 + (SIGNALS[sig ?? ''] ?? 0)));
  });
  return {
    pid: child.pid ?? -1,
    log,
    exit,
    stop: () => {
      child.kill('SIGTERM');
    },
  };
}
