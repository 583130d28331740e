// Where a clustered prep's CPU goes, against single-process prep, on the cluster bench's input (~64 MB of
// real text in 9,598 files: bench/_cluster-input.ts). CPU time of every process each configuration runs,
// from the bench's own children's counters (/proc/self/stat cutime + cstime: the CPU of the children it has
// waited for), plus the nats-server's for the cluster:
//   single     `flowlm prep` (2 tokenizer threads)
//   items-1    the cluster's work items run in turn by one plain process (bench/_cluster-items.ts: no NATS, no
//              coordinator, tokenizing on its main thread); its item-running thread's CPU is reported apart
//   items-2    the same items shared by two such processes at once (by index parity)
//   cluster-2  `flowlm prep --cluster` + 2 `flowlm worker` processes started with the job (the cluster bench's
//              cluster-2: tokenizing on each worker's main thread), nats-server included
// items-1 against single: what the item path costs; items-2 against items-1: what a second process costs;
// cluster-2 against items-2: what coordinating (NATS, the coordinator's start-up and merge) costs.
// copies=K: the input K times over (bench/_cluster-input.ts), to tell costs per byte from costs per job.
// Rounds alternate the order. Args: rounds=3 copies=1
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchInput } from './_cluster-input.ts';
import { startBenchNats } from './_cluster-nats.ts';
import { clustered, single } from './_cluster-runs.ts';
import { intArg } from './_args.ts';
import { median } from './_median.ts';

const TS_IMPORT = fileURLToPath(new URL('../src/runtime/ts-import.mjs', import.meta.url));
const ITEMS = fileURLToPath(new URL('./_cluster-items.ts', import.meta.url));
const TICK_MS = 10; // USER_HZ: the /proc/*/stat CPU fields count 1/100 s

/** user + system CPU (ms) of `stat`'s process (self: fields of its waited-for children too). */
function cpuOf(stat: string, children: boolean): number {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // after the command: state is field 3, utime 14, stime 15, cutime 16, cstime 17 (1-based)
  const at = (n: number) => Number(f[n - 3]);
  return (children ? at(16) + at(17) : at(14) + at(15)) * TICK_MS;
}
const childrenCpu = () => cpuOf(readFileSync('/proc/self/stat', 'utf8'), true);
const processCpu = (pid: number) => cpuOf(readFileSync(`/proc/${pid}/stat`, 'utf8'), false);

function items(out: string, k: number, n: number, flags: string[]): Promise<{ items: number; itemsCpuMs: number }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', TS_IMPORT, ITEMS, out, String(k), String(n), ...flags], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
    c.once('error', reject);
    c.once('close', (code) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{'))
        reject(new Error(`bench cluster-cpu: items ${k}/${n} exited ${code}: ${stderr}`));
      else resolve(JSON.parse(line) as { items: number; itemsCpuMs: number });
    });
  });
}

const s2 = (ms: number) => Math.round(ms / 10) / 100;

type Config = 'single' | 'items-1' | 'items-2' | 'cluster-2';
interface Measure {
  cpuMs: number;
  wallMs: number;
  /** items-1: the item-running thread's CPU */
  itemsCpuMs?: number;
}

export default async function clusterCpu(args: string[]): Promise<Record<string, unknown>> {
  const rounds = intArg('cluster-cpu', args, 'rounds', 3);
  const copies = intArg('cluster-cpu', args, 'copies', 1);
  const tmp = mkdtempSync(join(tmpdir(), 'flowlm-bench-cluster-cpu-'));
  const input = await benchInput(join(tmp, 'input'), 0, true, copies);
  const nats = await startBenchNats();
  const got: Record<Config, Measure[]> = { single: [], 'items-1': [], 'items-2': [], 'cluster-2': [] };
  try {
    console.log(`input: ${input.label}; nats-server -js at ${nats.url}; load ${loadavg()[0]!.toFixed(2)}`);
    const order: Config[] = ['single', 'items-1', 'items-2', 'cluster-2'];
    for (let round = 0; round < rounds; round++) {
      for (const cfg of order.map((_, k) => order[(k + round) % order.length]!)) {
        const out = join(tmp, `${cfg}-${round}`);
        const c0 = childrenCpu();
        const n0 = processCpu(nats.pid);
        const t0 = performance.now();
        const m: Measure = { cpuMs: 0, wallMs: 0 };
        if (cfg === 'single') await single(out, input.flags);
        else if (cfg === 'items-1') m.itemsCpuMs = (await items(out, 0, 1, input.flags)).itemsCpuMs;
        else if (cfg === 'items-2') await Promise.all([0, 1].map((k) => items(out, k, 2, input.flags)));
        else
          await clustered(
            nats.url,
            `cpu-${round}`,
            out,
            { processes: 2, slots: 1, threads: 0, itemBytes: 0 },
            input.flags,
          );
        m.wallMs = performance.now() - t0;
        m.cpuMs = childrenCpu() - c0 + (cfg === 'cluster-2' ? processCpu(nats.pid) - n0 : 0);
        rmSync(out, { recursive: true, force: true });
        got[cfg].push(m);
        console.log(
          `round ${round + 1} ${cfg}: cpu ${s2(m.cpuMs)} s, wall ${s2(m.wallMs)} s` +
            (m.itemsCpuMs !== undefined ? ` (items thread ${s2(m.itemsCpuMs)} s)` : '') +
            `; load ${loadavg()[0]!.toFixed(2)}`,
        );
      }
    }
  } finally {
    await nats.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  const cpu = (c: Config) => median(got[c].map((m) => m.cpuMs));
  const wall = (c: Config) => median(got[c].map((m) => m.wallMs));
  const result = {
    bench: 'cluster-cpu',
    input: input.label,
    rounds,
    cpu_s: Object.fromEntries(Object.keys(got).map((c) => [c, s2(cpu(c as Config))])),
    wall_s: Object.fromEntries(Object.keys(got).map((c) => [c, s2(wall(c as Config))])),
    items_1_thread_cpu_s: s2(median(got['items-1'].map((m) => m.itemsCpuMs!))),
    // the item path against single prep; a second process; coordinating
    cpu_items_1_vs_single: +(cpu('items-1') / cpu('single')).toFixed(2),
    cpu_items_2_vs_items_1: +(cpu('items-2') / cpu('items-1')).toFixed(2),
    cpu_cluster_2_vs_items_2: +(cpu('cluster-2') / cpu('items-2')).toFixed(2),
    cpu_cluster_2_vs_single: +(cpu('cluster-2') / cpu('single')).toFixed(2),
    wall_ratio_cluster_2_vs_single: +(wall('single') / wall('cluster-2')).toFixed(2),
    load_1m_end: +loadavg()[0]!.toFixed(2),
  };
  console.log(
    `CPU: single ${result.cpu_s.single} s, items in 1 process ${result.cpu_s['items-1']} s, in 2 ${result.cpu_s['items-2']} s, ` +
      `cluster (2 workers) ${result.cpu_s['cluster-2']} s`,
  );
  return result;
}
