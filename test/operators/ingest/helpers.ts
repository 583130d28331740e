// Shared by the reader tests: real text from the npm datasets, a temporary directory per test file,
// and a way to run a source to the end while keeping its rows, stats and log lines.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordBatch, TypeMap } from 'apache-arrow';
import { makeContext, type OperatorContext } from '../../../src/core/context.ts';
import type { SourceFactory } from '../../../src/core/operator.ts';
import type { z } from 'zod';
import { mobyDickChapters, spamAssassinDir, sotuTexts } from '../../../operators/ingest/embedded-corpus.ts';
import { expandGlobs } from '../../../src/runtime/files.ts';

export const tmp = (name: string) => mkdtempSync(join(tmpdir(), `flowlm-${name}-`));
export const cleanup = (dir: string) => rmSync(dir, { recursive: true, force: true });

/** Moby-Dick chapter files in chapter order (1, 2, ...). */
export async function mobyFiles(): Promise<string[]> {
  const files = await expandGlobs([mobyDickChapters()]);
  const n = (f: string) => Number(/chapter_(\d+)\.txt$/.exec(f)?.[1] ?? 0);
  return files.sort((a, b) => n(a) - n(b));
}

/** The paragraphs of a text as the readers define them: split at blank lines, trimmed, non-empty. */
export const paragraphsOf = (text: string) =>
  text
    .split(/\n\s*\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

export const sotuFiles = () => expandGlobs([sotuTexts()]);

/** Real e-mails (headers and body) from the SpamAssassin corpus, the first `n` of one folder. */
export function emails(n: number, folder = 'easy-ham-1'): { name: string; text: string }[] {
  const dir = join(spamAssassinDir(), folder);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .slice(0, n)
    .map((f) => ({ name: f, text: readFileSync(join(dir, f), 'utf8') }));
}

export interface Drained {
  rows: Record<string, unknown>[];
  batches: RecordBatch[];
  ctx: OperatorContext;
  log: string[];
  error?: Error;
}

/** Runs a source's generator to the end (or its first error) and keeps everything it produced. */
export async function drain<C extends z.ZodType, O extends TypeMap>(
  source: SourceFactory<C, O>,
  config: z.input<C>,
): Promise<Drained> {
  const log: string[] = [];
  const ctx = makeContext(source.def.id, { log: (m) => log.push(m) });
  const batches: RecordBatch[] = [];
  let error: Error | undefined;
  try {
    for await (const b of source.def.make(source.def.config.parse(config), ctx)) batches.push(b);
  } catch (err) {
    error = err instanceof Error ? err : new Error(String(err));
  }
  const rows = batches.flatMap((b) => b.toArray().map((r) => r.toJSON() as Record<string, unknown>));
  return { rows, batches, ctx, log, error };
}
