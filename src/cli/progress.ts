// Live progress on stderr (stdout stays for results): per node rows, batches, throughput, queue depth
// and drops. On a terminal, one bar per node redrawn in place (a source's bar is its credit budget in
// use, anyone else's the share of time it was busy: the fullest bar is the bottleneck); elsewhere
// (logs, CI, pipes) one plain line per interval and one at the end.
import type { StatsSnapshot } from '../core/stats.ts';
import type { Progress } from '../runtime/run.ts';
import { bar, count, pad, padLeft, rate, seconds } from './format.ts';

export type ProgressMode = 'auto' | 'bars' | 'plain' | 'none';
export const PROGRESS_MODES: readonly ProgressMode[] = ['auto', 'bars', 'plain', 'none'];

export interface NodeInfo {
  id: string;
  op: string;
  kind: 'source' | 'transform' | 'sink';
  maxInFlight: number;
  /** worker threads: busy time is summed over them */
  workers?: number;
}

export interface ProgressView {
  /** how often the runtime should call `update` */
  readonly intervalMs: number;
  update(p: Progress): void;
  /** a state shown with every later update, e.g. "stopping after SIGINT" */
  status(text: string): void;
  /** print a log line without tearing the bars */
  log(line: string): void;
  /** leave the last frame on screen and stop drawing */
  finish(): void;
}

interface Out {
  write(s: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

const WINDOW_MS = 3000; // throughput is measured over the last few seconds, not since the start

/** Bytes a node moved: what it emitted, or for a sink what it received. */
const movedBytes = (n: NodeInfo, s: StatsSnapshot) => (n.kind === 'sink' ? s.bytesIn : s.bytesOut);
const movedRows = (n: NodeInfo, s: StatsSnapshot) => (n.kind === 'sink' ? s.rowsIn : s.rowsOut);
const movedBatches = (n: NodeInfo, s: StatsSnapshot) => (n.kind === 'sink' ? s.batchesIn : s.batchesOut);

class Rates {
  private samples = new Map<string, Array<{ t: number; bytes: number }>>();
  /** bytes/s over the recent window (over the whole run when the window is the whole run) */
  of(id: string, t: number, total: number): number {
    const list = this.samples.get(id) ?? [];
    list.push({ t, bytes: total });
    while (list.length > 2 && list[1]!.t <= t - WINDOW_MS) list.shift();
    this.samples.set(id, list);
    const first = list.length > 1 ? list[0]! : { t: 0, bytes: 0 };
    return t > first.t ? ((total - first.bytes) * 1000) / (t - first.t) : 0;
  }
}

function facts(n: NodeInfo, s: StatsSnapshot, p: Progress, bps: number): string[] {
  const out = [`${count(movedRows(n, s))} rows`, `${count(movedBatches(n, s))} batches`, rate(bps)];
  const src = p.sources[n.id];
  if (src) out.push(`in flight ${src.inFlight}/${n.maxInFlight}`);
  else out.push(`queue ${s.queue}`);
  if (s.dropped > 0) out.push(`dropped ${count(s.dropped)}`);
  return out;
}

export function plainProgress(out: Out, nodes: readonly NodeInfo[], intervalMs = 2000): ProgressView {
  const rates = new Rates();
  let state = '';
  return {
    intervalMs,
    status(text) {
      state = `, ${text}`;
    },
    update(p) {
      const parts = nodes.map((n) => {
        const s = p.nodes[n.id];
        return s
          ? `${n.id}: ${facts(n, s, p, rates.of(n.id, p.elapsedMs, movedBytes(n, s))).join(', ')}`
          : `${n.id}: -`;
      });
      out.write(`flowlm [${seconds(p.elapsedMs)}${state}] ${parts.join(' | ')}\n`);
    },
    log: (line) => {
      out.write(line.endsWith('\n') ? line : `${line}\n`);
    },
    finish() {},
  };
}

export function barProgress(out: Out, nodes: readonly NodeInfo[], title: string, intervalMs = 250): ProgressView {
  const rates = new Rates();
  const idWidth = Math.max(...nodes.map((n) => n.id.length), 4);
  let drawn = 0;
  let last: string[] = [];
  let done = false;
  let state = '(bars: sources = credit in use, others = time busy)';
  const width = () => Math.max(40, (out.columns || 100) - 1);
  const clear = () => {
    if (drawn > 0) out.write(`\x1b[${drawn}F\x1b[J`);
    drawn = 0;
  };
  const draw = (lines: string[]) => {
    // lines longer than the terminal would wrap and break the cursor-up arithmetic
    const w = width();
    out.write(lines.map((l) => (l.length > w ? l.slice(0, w - 1) + '…' : l)).join('\n') + '\n');
    drawn = lines.length;
  };
  return {
    intervalMs,
    status(text) {
      state = text;
    },
    update(p) {
      if (done) return;
      const lines = [`flowlm ${title}  ${seconds(p.elapsedMs)}  ${state}`];
      for (const n of nodes) {
        const s = p.nodes[n.id];
        if (!s) continue;
        const src = p.sources[n.id];
        const fill = src
          ? src.inFlight / n.maxInFlight
          : s.busyMs / (Math.max(1, p.elapsedMs) * Math.max(1, n.workers ?? 0));
        const bps = rates.of(n.id, p.elapsedMs, movedBytes(n, s));
        lines.push(
          `  ${pad(n.id, idWidth)} ${bar(fill, 10)} ${padLeft(`${Math.round(Math.min(1, fill) * 100)}%`, 4)}  ${facts(n, s, p, bps).join('  ')}`,
        );
      }
      last = lines;
      clear();
      draw(lines);
    },
    log(line) {
      clear();
      out.write(line.endsWith('\n') ? line : `${line}\n`);
      if (!done && last.length > 0) draw(last);
    },
    finish() {
      done = true;
    },
  };
}

const noProgress = (out: Out): ProgressView => ({
  intervalMs: 0,
  update() {},
  status() {},
  log: (line) => {
    out.write(line.endsWith('\n') ? line : `${line}\n`);
  },
  finish() {},
});

/** The view for `mode`; 'auto' draws bars on a terminal and plain lines otherwise. */
export function createProgress(
  mode: ProgressMode,
  nodes: readonly NodeInfo[],
  title: string,
  out: Out = process.stderr,
): ProgressView {
  const m = mode === 'auto' ? (out.isTTY ? 'bars' : 'plain') : mode;
  if (m === 'bars') return barProgress(out, nodes, title);
  if (m === 'plain') return plainProgress(out, nodes);
  return noProgress(out);
}
