// count-tokens: per-document counts read from the list offsets, or totals in the operator's stats,
// in a plain pipe and on workers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordBatch, Int32, List, Vector } from 'apache-arrow';
import { from, lastValueFrom, toArray } from 'rxjs';
import { OperatorStats } from '../../../src/core/stats.ts';
import { runPipeline } from '../../../src/runtime/run.ts';
import { WorkerPool } from '../../../src/runtime/worker-pool.ts';
import { countTokens } from '../../../operators/tokenize/count-tokens.ts';
import { tokenize } from '../../../operators/tokenize/tokenize.ts';
import { docBatches, mobyParagraphs } from '../../fixtures/moby.ts';
import { memoryDocs } from './on-pool.ts';

const texts = [...mobyParagraphs(3), ...mobyParagraphs(4)];
const input = docBatches(texts, 8);
const lengths = (bs: RecordBatch[]) =>
  bs.flatMap((b) => Array.from(b.getChild('tokens')! as Vector<List<Int32>>, (v) => v!.length));

let pool: WorkerPool;
beforeAll(() => {
  pool = new WorkerPool({ size: 2 });
});
afterAll(() => pool.close());

describe('countTokens', () => {
  it("adds n_tokens, the length of each row's token list", async () => {
    const stats = new OperatorStats('count');
    const out = await lastValueFrom(
      from(input).pipe(tokenize({ encoding: 'p50k' }), countTokens({}, { stats }), toArray()),
    );
    const counts = out.flatMap((b) => Array.from(b.getChild('n_tokens')!, Number));
    expect(counts).toEqual(lengths(out));
    expect(counts).toHaveLength(texts.length);
    // a paragraph of prose is more than a token (with EOS) and fewer tokens than characters
    counts.forEach((n, i) => {
      expect(n).toBeGreaterThan(1);
      expect(n).toBeLessThanOrEqual(texts[i]!.length + 1);
    });
    expect(stats.counters.get('documents')).toBe(texts.length);
    expect(stats.counters.get('tokens')).toBe(counts.reduce((a, b) => a + b, 0));
  });

  it('counts totals in its stats and passes batches unchanged, also on workers', async () => {
    const memory = memoryDocs(input);
    const r = await runPipeline(
      {
        name: 'count',
        steps: [
          { id: 'src', op: memory, config: {} },
          { id: 'tok', op: tokenize, workers: 2, config: { encoding: 'r50k' } },
          { id: 'count', op: countTokens, workers: 2, config: { mode: 'totals' } },
        ],
      },
      { pool },
    );
    expect(r.error).toBeUndefined();
    const inline = await lastValueFrom(from(input).pipe(tokenize({ encoding: 'r50k' }), toArray()));
    const total = lengths(inline).reduce((a, b) => a + b, 0);
    expect(r.nodes.count!.counters).toEqual({ documents: texts.length, tokens: total });
    expect(r.nodes.tok!.counters?.tokens).toBe(total);
    expect(r.nodes.count!.rowsOut).toBe(texts.length);
  });
});
