// JSON Lines sink: one object per row, written to a temporary file renamed into place on completion.
// On error or cancellation the temporary file is removed: readers never see half a file.
import type { RecordBatch, TypeMap } from 'apache-arrow';
import { Schema } from 'apache-arrow';
import { z } from 'zod';
import { defineSink } from '../../src/core/operator.ts';
import { openAtomic } from '../../src/runtime/files.ts';

const Config = z.object({
  path: z.string().min(1).describe('output file; written to a temporary file and renamed into place on completion'),
  /** columns to write (default: all) */
  columns: z.array(z.string()).optional().describe('columns to write, in this order (default: all)'),
});

export function rowsAsJson(batch: RecordBatch, columns?: readonly string[]): string {
  const names = columns ?? batch.schema.names.map(String);
  const cols = names.map((n) => batch.getChild(n));
  let out = '';
  for (let r = 0; r < batch.numRows; r++) {
    const row: Record<string, unknown> = {};
    names.forEach((n, c) => {
      const v: unknown = cols[c]?.get(r);
      row[n] =
        typeof v === 'bigint'
          ? Number(v)
          : v !== null && typeof v === 'object' && 'toArray' in v
            ? Array.from((v as { toArray(): ArrayLike<unknown> }).toArray())
            : v;
    });
    out += JSON.stringify(row) + '\n';
  }
  return out;
}

export const writeJsonl = defineSink({
  id: 'io/write-jsonl',
  description: 'write rows as JSON Lines to one file (atomically)',
  config: Config,
  input: () => new Schema<TypeMap>([]),
  make: (cfg) => {
    const file = openAtomic(cfg.path);
    return {
      write: (batch) => file.write(rowsAsJson(batch, cfg.columns)),
      close: async (outcome) => {
        if (outcome === 'cancelled') {
          await file.abort();
          return [];
        }
        return [await file.commit()];
      },
      abort: () => file.abort(),
    };
  },
});
