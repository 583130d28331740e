// The progress views: plain lines for logs, bars redrawn in place on a terminal.
import { describe, expect, it } from 'vitest';
import type { StatsSnapshot } from '../../src/core/stats.ts';
import { barProgress, createProgress, plainProgress, type NodeInfo } from '../../src/cli/progress.ts';
import type { Progress } from '../../src/runtime/run.ts';

class Capture {
  chunks: string[] = [];
  constructor(
    readonly isTTY = false,
    readonly columns = 120,
  ) {}
  write(s: string): boolean {
    this.chunks.push(s);
    return true;
  }
  get text(): string {
    return this.chunks.join('');
  }
}

const NODES: NodeInfo[] = [
  { id: 'read', op: 'ingest/read-text', kind: 'source', maxInFlight: 8 },
  { id: 'clean', op: 'clean/normalize', kind: 'transform', maxInFlight: 8, workers: 2 },
  { id: 'write', op: 'io/write-jsonl', kind: 'sink', maxInFlight: 8 },
];

const stats = (s: Partial<StatsSnapshot>): StatsSnapshot => ({
  rowsIn: 0,
  rowsOut: 0,
  batchesIn: 0,
  batchesOut: 0,
  bytesIn: 0,
  bytesOut: 0,
  dropped: 0,
  dropReasons: {},
  busyMs: 0,
  queue: 0,
  ...s,
});

/** A run `t` ms in, having moved `rows` rows of 100 bytes each through every node. */
function at(
  t: number,
  rows: number,
  extra: { inFlight?: number; busyMs?: number; dropped?: number; queue?: number } = {},
): Progress {
  const moved = {
    rowsIn: rows,
    rowsOut: rows,
    batchesIn: rows / 10,
    batchesOut: rows / 10,
    bytesIn: rows * 100,
    bytesOut: rows * 100,
  };
  return {
    elapsedMs: t,
    nodes: {
      read: stats({ ...moved, rowsIn: 0, batchesIn: 0, bytesIn: 0, dropped: extra.dropped ?? 0 }),
      clean: stats({ ...moved, busyMs: extra.busyMs ?? 0, queue: extra.queue ?? 0 }),
      write: stats({ ...moved, rowsOut: 0, batchesOut: 0, bytesOut: 0 }),
    },
    sources: { read: { inFlight: extra.inFlight ?? 0, inFlightBytes: 0, peakInFlight: extra.inFlight ?? 0 } },
  };
}

describe('plain progress', () => {
  it('prints one line per update with rows, batches, recent throughput, credit or queue, drops', () => {
    const out = new Capture();
    const view = plainProgress(out, NODES);
    view.update(at(1000, 10_000, { inFlight: 3, dropped: 12, queue: 2 }));
    view.update(at(3000, 50_000, { inFlight: 8, dropped: 40 }));
    const lines = out.text.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    // first line: 1 MB in 1 s; second: 4 MB more in the 2 s since
    expect(lines[0]).toBe(
      'flowlm [1.0 s] read: 10,000 rows, 1,000 batches, 1.00 MB/s, in flight 3/8, dropped 12 | clean: 10,000 rows, 1,000 batches, 1.00 MB/s, queue 2 | write: 10,000 rows, 1,000 batches, 1.00 MB/s, queue 0',
    );
    expect(lines[1]).toContain(
      'flowlm [3.0 s] read: 50,000 rows, 5,000 batches, 2.00 MB/s, in flight 8/8, dropped 40 |',
    );
    view.status('stopping after SIGINT');
    view.update(at(3500, 50_000));
    expect(out.text.trimEnd().split('\n')[2]).toMatch(/^flowlm \[3\.5 s, stopping after SIGINT\] read: 50,000 rows/);
    view.log('[read] skipped: something');
    expect(out.text.endsWith('[read] skipped: something\n')).toBe(true);
  });
});

describe('bar progress', () => {
  it('redraws the frame in place: cursor up over the previous frame, then the new one', () => {
    const out = new Capture(true);
    const view = barProgress(out, NODES, 'demo');
    view.update(at(1000, 1000, { inFlight: 4, busyMs: 1500 }));
    const first = out.text;
    expect(first).not.toContain('\x1b[');
    const frame = first.trimEnd().split('\n');
    expect(frame).toHaveLength(4); // title + one line per node
    expect(frame[0]).toMatch(/^flowlm demo {2}1\.0 s/);
    // a source's bar is its credit in use (4 of 8), a transform's the share of time its 2 workers were busy
    expect(frame[1]).toMatch(/^ {2}read +█████ +50% {2}1,000 rows {2}100 batches {2}100 kB\/s {2}in flight 4\/8$/);
    expect(frame[2]).toMatch(/^ {2}clean +███████▌ +75% {2}1,000 rows/);
    out.chunks = [];
    view.update(at(2000, 3000, { inFlight: 8, busyMs: 3900 }));
    expect(out.text.startsWith('\x1b[4F\x1b[J')).toBe(true);
    expect(out.text).toMatch(/read +██████████ 100% {2}3,000 rows/);
    // a log line clears the frame, prints, and draws the frame again below it
    out.chunks = [];
    view.log('[clean] note');
    expect(out.text.startsWith('\x1b[4F\x1b[J[clean] note\n')).toBe(true);
    expect(out.text.split('\n')).toHaveLength(6);
    view.finish();
    out.chunks = [];
    view.update(at(3000, 4000));
    expect(out.text).toBe('');
  });

  it('cuts lines to the terminal width so the redraw arithmetic holds', () => {
    const out = new Capture(true, 50);
    barProgress(out, NODES, 'a-pipeline-with-a-rather-long-name').update(
      at(1000, 123_456_789, { inFlight: 8, dropped: 99_999 }),
    );
    for (const line of out.text.trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(49);
  });
});

describe('createProgress', () => {
  it('auto picks bars on a terminal and plain lines elsewhere; none prints nothing', () => {
    const tty = new Capture(true),
      pipe = new Capture(false),
      quiet = new Capture(true);
    createProgress('auto', NODES, 'x', tty).update(at(1000, 10));
    createProgress('auto', NODES, 'x', pipe).update(at(1000, 10));
    const none = createProgress('none', NODES, 'x', quiet);
    none.update(at(1000, 10));
    expect(tty.text).toMatch(/^flowlm x {2}1\.0 s/);
    expect(pipe.text).toMatch(/^flowlm \[1\.0 s\] read: 10 rows/);
    expect(quiet.text).toBe('');
    expect(none.intervalMs).toBe(0);
    none.log('still shown');
    expect(quiet.text).toBe('still shown\n');
  });
});
