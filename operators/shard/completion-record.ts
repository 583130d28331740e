// Reading a completion record (a shard's, an item output's, a dedup partition's): a JSON file written
// atomically after its output, checked against its zod schema. What is wrong comes back as a reason, so
// callers can report it or treat the output as not written.
import { existsSync, readFileSync } from 'node:fs';
import type { z } from 'zod';

/** The record at `path`, or why there is none (a string). */
export function readRecord<R>(path: string, schema: z.ZodType<R>): R | string {
  if (!existsSync(path)) return 'no completion record';
  try {
    const r = schema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return r.success ? r.data : `completion record invalid: ${r.error.issues[0]?.message}`;
  } catch (err) {
    return `completion record unreadable (${(err as Error).message})`;
  }
}
