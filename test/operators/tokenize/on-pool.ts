// The tokenize operator run as a pipeline node on a worker pool (workers: 2) over in-memory batches,
// collecting the batches it emits: what the tests compare with the same operator in a plain pipe.
import { Field, Int32, List, RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { defineOperator, defineSource } from '../../../src/core/operator.ts';
import { mapBatch } from '../../../src/core/map-batch.ts';
import { runPipeline, type RunResult } from '../../../src/runtime/run.ts';
import type { WorkerPool } from '../../../src/runtime/worker-pool.ts';
import { docSchema, schemaOf, type Doc } from '../../../src/schema/index.ts';
import { tokenize } from '../../../operators/tokenize/tokenize.ts';

const tokensSchema = () =>
  schemaOf<{ tokens: List<Int32> }>({ tokens: { type: new List(new Field('item', new Int32(), false)) } });

/** A source of the given Doc batches (each run yields them again), for a pipeline node on workers. */
export function memoryDocs(input: RecordBatch[]) {
  return defineSource({
    id: 'test/memory',
    description: 'the test batches',
    config: z.object({}),
    output: docSchema,
    async *make() {
      for (const b of input) yield new RecordBatch(b.schema, b.data) as RecordBatch<Doc>;
    },
  });
}

export async function tokenizeOnPool(
  input: RecordBatch[],
  config: Record<string, unknown>,
  pool: WorkerPool,
): Promise<{ r: RunResult; got: RecordBatch[] }> {
  const memory = memoryDocs(input);
  const got: RecordBatch[] = [];
  const collect = defineOperator({
    id: 'test/collect',
    description: 'keeps the batches it sees',
    config: z.object({}),
    input: tokensSchema,
    passthrough: true,
    output: tokensSchema,
    make: (_cfg, ctx) =>
      mapBatch(
        (b) => {
          got.push(b);
          return b;
        },
        { ctx },
      ),
  });
  const r = await runPipeline(
    {
      name: 'tokenize-on-pool',
      steps: [
        { id: 'src', op: memory, config: {} },
        { id: 'tok', op: tokenize, workers: 2, config },
        { id: 'collect', op: collect, config: {} },
      ],
    },
    { pool },
  );
  return { r, got };
}
