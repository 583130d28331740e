// Real documents for the dedup tests: Moby-Dick's chapters and the whole book the dataset ships beside
// them (data.txt, hard-wrapped, straight quotes where the chapters have curly ones), State of the
// Union addresses and SpamAssassin e-mail bodies. Helpers cut them into Doc batches.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DataType, RecordBatch } from 'apache-arrow';
import { from, lastValueFrom, toArray, type Observable, type OperatorFunction } from 'rxjs';
import { batchFromColumns, docSchema, type Doc } from '../../../src/schema/index.ts';
import { mobyDickChapters, sotuTexts, spamAssassinDir } from '../../../operators/ingest/embedded-corpus.ts';

const dirOf = (glob: string) => glob.slice(0, glob.lastIndexOf('/'));
const mobyDir = dirOf(mobyDickChapters());

export interface Text {
  id: string;
  text: string;
}

/** Chapters 1..135 as the dataset ships them, one file each. */
export function mobyChapters(): Text[] {
  return Array.from({ length: 135 }, (_, i) => ({
    id: `chapter-${i + 1}`,
    text: readFileSync(join(mobyDir, `chapter_${i + 1}.txt`), 'utf8'),
  }));
}

/** The whole book (data.txt) cut at its chapter headings: the second copy of every chapter. */
export function mobyBookChapters(): Text[] {
  const book = readFileSync(join(mobyDir, 'data.txt'), 'utf8');
  return book.split(/\n(?=CHAPTER \d+\.)/).map((text, i) => ({ id: `book-${i + 1}`, text }));
}

export function sotu(): Text[] {
  const dir = dirOf(sotuTexts());
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => ({ id: `sotu-${f}`, text: readFileSync(join(dir, f), 'utf8') }));
}

/** E-mail bodies (after the headers) from a SpamAssassin folder, every `step`-th message. */
export function emailBodies(folder: string, step = 1): Text[] {
  const dir = join(spamAssassinDir(), folder);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .filter((_, i) => i % step === 0);
  return files.map((f) => {
    const raw = readFileSync(join(dir, f), 'utf8');
    const at = raw.search(/\r?\n\r?\n/);
    return { id: `${folder}/${f}`, text: at < 0 ? raw : raw.slice(at).trim() };
  });
}

/** Doc batches of `rows` rows. */
export function docBatches(texts: readonly Text[], rows = 64): RecordBatch<Doc>[] {
  const out: RecordBatch<Doc>[] = [];
  for (let i = 0; i < texts.length; i += rows) {
    const part = texts.slice(i, i + rows);
    out.push(
      batchFromColumns(docSchema(), {
        id: part.map((t) => t.id),
        text: part.map((t) => t.text),
        url: part.map(() => null),
        source: part.map(() => 'test'),
      }),
    );
  }
  return out;
}

/** Runs batches through an operator; returns the output batches. */
export function runOp<I extends RecordBatch, O extends RecordBatch>(
  batches: readonly I[],
  op: OperatorFunction<I, O>,
): Promise<O[]> {
  return lastValueFrom((from(batches) as Observable<I>).pipe(op, toArray()));
}

/** The ids of the rows of some batches, in order. */
export const idsOf = (batches: readonly RecordBatch[]): string[] =>
  batches.flatMap((b) => {
    const c = b.getChild('id')!;
    return Array.from({ length: b.numRows }, (_, r) => String(c.get(r)));
  });

/** The values of one column over some batches, in order (bigints as numbers). */
export const columnValues = (batches: readonly RecordBatch[], name: string): unknown[] =>
  batches.flatMap((b) => {
    const c = (b as RecordBatch<Record<string, DataType>>).getChild(name);
    if (!c) throw new Error(`no column ${name} in ${b.schema.names.join(', ')}`);
    return Array.from({ length: b.numRows }, (_, r) => {
      const v: unknown = c.get(r);
      return typeof v === 'bigint' ? Number(v) : v;
    });
  });

/** A deterministic PRNG (mulberry32) for building test sets. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
