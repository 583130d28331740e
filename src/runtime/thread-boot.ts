// Worker threads that run TypeScript. Node 20 ignores `--import` hooks in a worker's execArgv, so a tiny
// eval'd script registers flowlm's TypeScript hooks (ts-register.mjs) and then imports the entry module;
// tsx's loader flags (a process started with `node --import tsx`) are dropped from the inherited execArgv
// (the boot script replaces them), other flags pass on.
import { Worker, type WorkerOptions } from 'node:worker_threads';

const TSX_FLAG = /^(--import|--loader|--experimental-loader|--require|-r)$/;
const isTsx = (v: string | undefined) => v !== undefined && /^tsx(\/|$)|[/\\]tsx[/\\]dist[/\\]/.test(v);

/** The script that registers flowlm's TypeScript hooks (ts-register.mjs) and imports `entryUrl`. */
export function bootScript(entryUrl: string): string {
  const register = new URL('./ts-register.mjs', import.meta.url).href;
  return `import(${JSON.stringify(register)}).then((m) => { m.registerTs(); return import(${JSON.stringify(entryUrl)}); })`;
}

/** This process's flags minus tsx's loader ones. */
export function threadExecArgv(): string[] {
  const args = process.execArgv;
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    if (eq > 0 && TSX_FLAG.test(a.slice(0, eq)) && isTsx(a.slice(eq + 1))) continue;
    if (TSX_FLAG.test(a) && isTsx(args[i + 1])) {
      i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

/** A worker thread running the TypeScript (or compiled) module at `entryUrl` (a file: URL). */
export function tsWorker(entryUrl: string, options: Omit<WorkerOptions, 'eval' | 'execArgv'> = {}): Worker {
  return new Worker(bootScript(entryUrl), { ...options, eval: true, execArgv: threadExecArgv() });
}
