// Where the PPO prompts come from, read whole (prompt sets are small): a list in the spec, a file
// (JSONL with a "prompt" field, or one prompt per line), or a shard directory (shard/write-shards:
// Arrow IPC or Parquet with a Utf8 prompt column) read in manifest order, unshuffled.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ShardDataset } from '../shard/dataset.ts';

export const promptSourceFields = {
  prompts: z.array(z.string()).min(1).optional().describe('the prompts, in order'),
  file: z
    .string()
    .min(1)
    .optional()
    .describe('a file of prompts: JSONL with a "prompt" field per line (.jsonl), else one prompt per line'),
  dir: z.string().min(1).optional().describe('a shard directory (shard/write-shards) with a prompt column'),
  column: z.string().min(1).default('prompt').describe("the shards' column holding the prompt text"),
};

export type PromptSource = { prompts?: string[]; file?: string; dir?: string; column: string };

/** Exactly one of prompts, file, dir. */
export const oneSource = (c: PromptSource): boolean =>
  [c.prompts, c.file, c.dir].filter((x) => x !== undefined).length === 1;

async function shardPrompts(dir: string, column: string, where: string): Promise<string[]> {
  const ds = new ShardDataset(dir, { batchRows: 1024, shuffle: false, epochs: 1 }, where);
  const out: string[] = [];
  for await (const { batch } of ds.iterate()) {
    const col = batch.getChild(column);
    if (!col)
      throw new Error(
        `${where}: the shards in ${dir} have no ${column} column (columns: ${batch.schema.names.join(', ')}); set column`,
      );
    for (let i = 0; i < batch.numRows; i++) {
      const v = col.get(i) as unknown;
      if (typeof v !== 'string') throw new Error(`${where}: row ${out.length} of ${dir} has no text in ${column}`);
      out.push(v);
    }
  }
  if (out.length === 0) throw new Error(`${where}: the shards in ${dir} hold no prompts`);
  return out;
}

export async function promptList(c: PromptSource, where: string): Promise<string[]> {
  if (c.prompts) return c.prompts;
  if (c.dir) return shardPrompts(c.dir, c.column, where);
  const file = c.file!;
  const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new Error(`${where}: ${file} holds no prompts`);
  if (!file.endsWith('.jsonl')) return lines;
  return lines.map((l, i) => {
    const p = (JSON.parse(l) as { prompt?: unknown }).prompt;
    if (typeof p !== 'string') throw new Error(`${where}: ${file} line ${i + 1} has no string "prompt" field`);
    return p;
  });
}
