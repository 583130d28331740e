// Worker threads that run TypeScript. Node 20 ignores `--import` hooks in a worker's execArgv, so a tiny
// eval'd script registers flowlm's TypeScript hooks (ts-register.mjs) and then imports the entry module;
// tsx's loader flags (a process started with `node --import tsx`) are dropped from the inherited execArgv
// (the boot script replaces them), other flags pass on but for those a worker refuses: V8's own
// (`node --max-old-space-size=8192 flowlm prep ...` made every thread fail to start), which apply to
// every thread of the process anyway, and a few per-process ones (--title).
import { Worker, type WorkerOptions } from 'node:worker_threads';

const TSX_FLAG = /^(--import|--loader|--experimental-loader|--require|-r)$/;
const isTsx = (v: string | undefined) => v !== undefined && /^tsx(\/|$)|[/\\]tsx[/\\]dist[/\\]/.test(v);

/** The script that registers flowlm's TypeScript hooks (ts-register.mjs) and imports `entryUrl`. */
export function bootScript(entryUrl: string): string {
  const register = new URL('./ts-register.mjs', import.meta.url).href;
  return `import(${JSON.stringify(register)}).then((m) => { m.registerTs(); return import(${JSON.stringify(entryUrl)}); })`;
}

// flags a Worker refused in this process: found once, at the first thread, from Node's own check
const refusedFlags = new Set<string>();
const INVALID = 'Initiated Worker with invalid execArgv flags: ';

/** This process's flags (`args`) minus tsx's loader ones and those a worker refused (`refused`). */
export function threadExecArgv(args: readonly string[] = process.execArgv, refused = refusedFlags): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    if (eq > 0 && TSX_FLAG.test(a.slice(0, eq)) && isTsx(a.slice(eq + 1))) continue;
    if (TSX_FLAG.test(a) && isTsx(args[i + 1])) {
      i++;
      continue;
    }
    if (!refused.has(a)) out.push(a);
  }
  return out;
}

/** The flags Node names in a refusal of a worker's execArgv (ERR_WORKER_INVALID_EXEC_ARGV). */
export function refusedIn(err: unknown, args: readonly string[]): string[] {
  if ((err as { code?: string })?.code !== 'ERR_WORKER_INVALID_EXEC_ARGV') return [];
  const msg = String((err as Error).message);
  const at = msg.indexOf(INVALID);
  if (at < 0) return [];
  const named = new Set(msg.slice(at + INVALID.length).split(', '));
  return args.filter((a) => named.has(a));
}

/** A worker thread running the TypeScript (or compiled) module at `entryUrl` (a file: URL). */
export function tsWorker(entryUrl: string, options: Omit<WorkerOptions, 'eval' | 'execArgv'> = {}): Worker {
  const execArgv = threadExecArgv();
  try {
    return new Worker(bootScript(entryUrl), { ...options, eval: true, execArgv });
  } catch (err) {
    const refused = refusedIn(err, execArgv);
    if (refused.length === 0) throw err;
    for (const a of refused) refusedFlags.add(a);
    return new Worker(bootScript(entryUrl), { ...options, eval: true, execArgv: threadExecArgv() });
  }
}
