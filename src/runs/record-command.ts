// Every `flowlm run/prep/train/eval/tune` is a run in the store: created before the command starts
// (name, command line, params from the spec file and `--set`, git state, environment), ended with the
// command's outcome (0 finished, 130/143 killed by a signal, anything else failed with the last error
// line). FLOWLM_STORE and FLOWLM_RUN_ID go into the environment, so the command's threads and child
// processes record into this run (current-run.ts). A command started with FLOWLM_RUN_ID already set
// records into that run: a rank process logs into its launcher's run; a tuner's trial
// (FLOWLM_RUN_OWN=1) takes its run over and ends it.
import { basename, extname, resolve } from 'node:path';
import { arch, cpus, platform } from 'node:os';
import { readFileSync } from 'node:fs';
import { HEARTBEAT_MS, RunStore, type RunStatus } from './store.ts';
import { gitState } from './git-state.ts';
import { storePath, takeStoreFlag } from './store-path.ts';

export const RECORDED_COMMANDS = new Set(['run', 'prep', 'train', 'eval', 'tune']);

interface ErrSink {
  err(line: string): void;
}

/** `--set a.b=1 --set c=x` as params {a.b: 1, c: "x"} (values that read as JSON are kept as such). */
export function setParams(argv: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const kv = a === '--set' || a === '-s' ? argv[++i] : a.startsWith('--set=') ? a.slice(6) : undefined;
    if (kv === undefined) continue;
    const eq = kv.indexOf('=');
    if (eq <= 0) continue;
    const raw = kv.slice(eq + 1);
    let v: unknown = raw;
    try {
      v = JSON.parse(raw);
    } catch {}
    out[kv.slice(0, eq)] = v;
  }
  return out;
}

function flowlmVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
      .version;
  } catch {
    return '0.0.0';
  }
}

/** The spec the command runs: its first argument naming a module or spec file (not a flag's value). */
const specFile = (argv: readonly string[]) =>
  argv.find((a, i) => /\.(m?[jt]s|json)$/.test(a) && !/^(--set|-s)$/.test(argv[i - 1] ?? ''));

/** A trial of `flowlm tune` stops (as on SIGTERM: after the step, with a checkpoint) when its tuner is gone. */
function tunerWatchdog(): NodeJS.Timeout | undefined {
  const tuner = Number(process.env.FLOWLM_TUNER_PID);
  if (!Number.isInteger(tuner) || tuner <= 0) return undefined;
  delete process.env.FLOWLM_TUNER_PID;
  const t = setInterval(() => {
    try {
      process.kill(tuner, 0);
    } catch {
      clearInterval(t);
      process.kill(process.pid, 'SIGTERM');
    }
  }, 1000);
  t.unref();
  return t;
}

const ERROR_CHARS = 4000;
const errorText = (err: unknown): string => {
  const text = (err instanceof Error ? err.message : String(err)).trim();
  return text.length > ERROR_CHARS ? `${text.slice(0, ERROR_CHARS)}…` : text;
};

export function exitStatus(code: number): 'finished' | 'killed' | 'failed' {
  return code === 0 ? 'finished' : code === 130 || code === 143 ? 'killed' : 'failed';
}

/** Runs `fn` (the command, given argv without --store) as a recorded run. */
export async function recordCommand<IO extends ErrSink>(
  command: string,
  argvIn: readonly string[],
  io: IO,
  fn: (argv: string[], io: IO) => Promise<number>,
): Promise<number> {
  const { argv, store: flag } = takeStoreFlag(argvIn);
  if (argv.includes('--help') || argv.includes('-h')) return fn(argv, io);
  const path = storePath(flag);
  const prior = { store: process.env.FLOWLM_STORE, run: process.env.FLOWLM_RUN_ID, own: process.env.FLOWLM_RUN_OWN };
  const inherited = prior.run !== undefined && prior.store !== undefined && resolve(prior.store) === path;
  if (inherited && prior.own !== '1') return fn(argv, io); // a rank of its launcher's run

  const file = specFile(argv);
  let store: RunStore | undefined;
  let runId: string;
  try {
    store = RunStore.open(path);
    if (inherited) {
      runId = prior.run!;
      store.claim(runId);
    } else {
      runId = store.createRun({
        name: `${command}${file ? ` ${basename(file, extname(file))}` : ''}`,
        command,
        argv,
        git: gitState(),
        env: {
          node: process.version,
          platform: platform(),
          arch: arch(),
          cpus: cpus().length,
          flowlm: flowlmVersion(),
        },
        params: { ...(file ? { file } : {}), ...setParams(argv) },
      }).id;
    }
  } catch (err) {
    // the run directory keeps its own record: a store that cannot be opened (unwritable place, a newer
    // flowlm's store) must not stop the command
    store?.close();
    io.err(
      `flowlm: run store ${path}: ${err instanceof Error ? err.message : String(err)}; this ${command} is not recorded ` +
        '(give a writable store with --store PATH or FLOWLM_STORE)',
    );
    return fn(argv, io);
  }
  process.env.FLOWLM_STORE = path;
  process.env.FLOWLM_RUN_ID = runId;
  delete process.env.FLOWLM_RUN_OWN; // the command's own children are ranks, not owners
  const watchdog = tunerWatchdog();
  const beat = setInterval(() => {
    try {
      store.heartbeat(runId);
    } catch {}
  }, HEARTBEAT_MS);
  beat.unref();
  let lastErr: string | undefined;
  const tee: IO = {
    ...io,
    err: (line: string) => {
      // the last message whole: an invalid spec's first line says so, the lines below it say why
      if (line.trim() !== '') lastErr = errorText(line);
      io.err(line);
    },
  };
  // a store that fails at the end (locked past its timeout, disk full) costs the record, not the outcome
  const finish = (status: Exclude<RunStatus, 'running'>, error?: string) => {
    try {
      store.finishRun(runId, status, error);
    } catch (err) {
      io.err(`flowlm: run store ${path}: run ${runId} not marked ${status}: ${errorText(err)}`);
    }
  };
  try {
    const code = await fn(argv, tee);
    const status = exitStatus(code);
    finish(status, status === 'failed' ? (lastErr ?? `exit code ${code}`) : undefined);
    return code;
  } catch (err) {
    // the whole message (an invalid spec lists its problems below its first line), within reason
    finish('failed', errorText(err));
    throw err;
  } finally {
    clearInterval(beat);
    if (watchdog) clearInterval(watchdog);
    store.close();
    for (const [k, v] of [
      ['FLOWLM_STORE', prior.store],
      ['FLOWLM_RUN_ID', prior.run],
      ['FLOWLM_RUN_OWN', prior.own],
    ] as const)
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
}
