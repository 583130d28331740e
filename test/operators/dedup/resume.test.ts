// A stopped job resumes without forgetting what it saw: a run cancelled part-way (the executor's
// AbortSignal) saves the dedup index; a new run restores it and, reading the input again from the
// start, gives exactly the output of one uninterrupted run.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RecordBatch } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSink, defineSource } from '../../../src/core/operator.ts';
import { runPipeline } from '../../../src/runtime/run.ts';
import { docSchema, type Doc } from '../../../src/schema/index.ts';
import { exactDedup } from '../../../operators/dedup/exact.ts';
import { minhashDedup } from '../../../operators/dedup/minhash/filter.ts';
import { docBatches, idsOf, mobyBookChapters, mobyChapters } from './corpus.ts';

const dir = mkdtempSync(join(tmpdir(), 'flowlm-dedup-resume-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const input = docBatches([...mobyChapters(), ...mobyBookChapters()], 10);

/** The input from batch `from` on, a batch every few milliseconds, so a cancel lands part-way. */
const slowSource = defineSource({
  id: 'test/slow-docs',
  description: 'the test batches, slowly',
  config: z.object({ from: z.number().int().default(0) }),
  output: docSchema,
  async *make(cfg) {
    for (const b of input.slice(cfg.from)) {
      await sleep(3);
      yield new RecordBatch(b.schema, b.data) as RecordBatch<Doc>;
    }
  },
});

async function run(
  dedup: 'exact' | 'minhash',
  statePath: string,
  cancelAfter?: number,
  from = 0,
): Promise<{ ids: string[]; cancelled: boolean; log: string[] }> {
  const controller = new AbortController();
  const got: RecordBatch[] = [];
  const collect = defineSink({
    id: 'test/collect',
    description: 'keeps the batches',
    config: z.object({}),
    input: docSchema,
    make: () => ({
      write: (b) => {
        got.push(b);
        if (cancelAfter !== undefined && got.length >= cancelAfter) controller.abort(new Error('test stop'));
      },
      close: () => [],
      abort: () => undefined,
    }),
  });
  const op = dedup === 'exact' ? exactDedup : minhashDedup;
  const log: string[] = [];
  const r = await runPipeline(
    {
      name: `resume-${dedup}`,
      steps: [
        { id: 'read', op: slowSource, config: { from } },
        { id: 'dedup', op, config: { statePath, ...(dedup === 'exact' ? { punctuation: true } : {}) } },
        { id: 'collect', op: collect, config: {} },
      ],
    },
    { signal: controller.signal, log: (_node, m) => log.push(m) },
  );
  return { ids: idsOf(got), cancelled: r.cancelled === true, log };
}

describe.each(['exact', 'minhash'] as const)('dedup/%s resumes after a cancelled run', (dedup) => {
  it('saves its index on cancel and gives the one-run output when restarted', async () => {
    const one = await run(dedup, join(dir, `${dedup}-one.idx`));
    expect(one.cancelled).toBe(false);
    const statePath = join(dir, `${dedup}-stopped.idx`);
    const stopped = await run(dedup, statePath, 8);
    expect(stopped.cancelled).toBe(true);
    expect(stopped.ids.length).toBeLessThan(one.ids.length);
    expect(existsSync(statePath)).toBe(true);
    // restart where the sink's output ends (the index may have seen more: those are replays)
    const last = stopped.ids.at(-1)!;
    const from = input.findIndex((b) => idsOf([b]).includes(last)) + 1;
    const resumed = await run(dedup, statePath, undefined, from);
    expect(resumed.log.join('\n')).toMatch(/restored dedup index/);
    expect([...stopped.ids, ...resumed.ids]).toEqual(one.ids);
    // and again from the very start: everything the first runs passed on is a replay
    const replayed = await run(dedup, statePath);
    expect(replayed.ids).toEqual(one.ids);
    expect(one.ids.length).toBeLessThan(input.reduce((n, b) => n + b.numRows, 0)); // it did drop duplicates
  });
});
