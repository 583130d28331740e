// SIGINT/SIGTERM during a long run: the run drains and the process exits 130/143 with one line on
// stderr, leaving no temporary file and no half-written output; a second signal exits at once.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lastJson, start, spec } from './spawn.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-cli-signals-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const files = (dir: string) => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};
const hasTemp = (dir: string) => files(dir).some((f) => f.startsWith('.flowlm-tmp-'));

type Summary = {
  ok: boolean;
  cancelled: boolean;
  signal: string;
  nodes: Record<string, { rowsIn: number; rowsOut: number }>;
  sinks: Array<{ rows: number; files: string[]; cancelled: boolean }>;
};

describe('signals', () => {
  it('SIGINT drains the run: exit 130, one stderr line, nothing left in the output directory', async () => {
    const out = join(tmp, 'int');
    const run = start([
      'run',
      spec('slow.ts'),
      '--json',
      '--progress',
      'none',
      '--set',
      `write.path=${join(out, 'docs.jsonl')}`,
    ]);
    // the sink has started its temporary file: the run is well under way
    await run.until(() => hasTemp(out));
    const t0 = performance.now();
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(performance.now() - t0).toBeLessThan(5000);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^flowlm: cancelled by SIGINT after \d+\.\d+ s \(write: [\d,]+ rows, no complete file kept\)$/,
    );
    expect(files(out)).toEqual([]);
    const j = lastJson(r.stdout) as unknown as Summary;
    expect(j).toMatchObject({ ok: false, cancelled: true, signal: 'SIGINT' });
    // stopped part-way: the sink had received rows, far from all of Moby-Dick's paragraphs
    expect(j.nodes.write!.rowsIn).toBeGreaterThan(0);
    expect(j.nodes.write!.rowsIn).toBeLessThan(2000);
    expect(j.nodes.slow!.rowsOut).toBe(j.nodes.write!.rowsIn); // in-flight batches finished and reached the sink
    expect(j.sinks).toEqual([expect.objectContaining({ rows: j.nodes.write!.rowsIn, files: [], cancelled: true })]);
    expect(Number(/write: ([\d,]+) rows/.exec(lines[0]!)![1]!.replace(/,/g, ''))).toBe(j.nodes.write!.rowsIn);
  });

  it('SIGTERM after periodic progress lines: exit 143, the cancellation line last', async () => {
    const out = join(tmp, 'term');
    const run = start([
      'run',
      spec('slow.ts'),
      '--progress',
      'plain',
      '--set',
      `write.path=${join(out, 'docs.jsonl')}`,
    ]);
    // plain progress prints every 2 s while the run goes on
    await run.until(() => /^flowlm \[\d+\.\d+ s\] read: /m.test(run.stderr()) && hasTemp(out));
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(r.code).toBe(143);
    const lines = r.stderr.trim().split('\n');
    expect(lines.filter((l) => l.includes('cancelled'))).toHaveLength(1);
    expect(lines[lines.length - 1]).toMatch(
      /^flowlm: cancelled by SIGTERM after \d+\.\d+ s \(write: [\d,]+ rows, no complete file kept\)$/,
    );
    const progress = lines.slice(0, -1);
    expect(
      progress.every((l) =>
        /^flowlm \[\d+\.\d+ s(, stopping after SIGTERM \(again to exit now\))?\] read: [\d,]+ rows, .* \| slow: .* \| write: /.test(
          l,
        ),
      ),
    ).toBe(true);
    // the final progress line, printed after the drain, says the run was stopping
    expect(progress[progress.length - 1]).toContain(', stopping after SIGTERM');
    expect(r.stdout).toBe('');
    expect(files(out)).toEqual([]);
  });

  it('a second signal exits at once without waiting for in-flight work', async () => {
    const out = join(tmp, 'twice');
    // each batch sleeps 4 s and ignores cancellation: draining would take many seconds
    const run = start([
      'run',
      spec('slow.ts'),
      '--progress',
      'none',
      '--set',
      'slow.ms=4000',
      '--set',
      'slow.ignoreAbort=true',
      '--set',
      'slow.announce=true',
      '--set',
      `write.path=${join(out, 'docs.jsonl')}`,
    ]);
    await run.until(() => run.stderr().includes('[slow] first batch'));
    run.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(performance.now() - t0).toBeLessThan(2500);
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('flowlm: SIGINT again: exiting now without waiting for in-flight work');
    expect(r.stderr).not.toContain('cancelled by');
  });
});
