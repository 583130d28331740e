// Arrow IPC files and streams (globs allowed), one record batch at a time. The IPC file format is read
// through its footer (random access: a batch that fails to decode is skipped, the others are read); a
// file whose footer is missing (truncated) and the stream format are read front to back until the data
// ends or breaks, keeping every batch before the break. The declared schema is the first file's.
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Footer } from 'apache-arrow/ipc/metadata/file';
import {
  RecordBatchReader,
  Schema,
  type AsyncRecordBatchFileReader,
  type RecordBatch,
  type TypeMap,
} from 'apache-arrow';
import { z } from 'zod';
import { defineSource } from '../../src/core/operator.ts';
import { FlowError } from '../../src/core/errors.ts';
import { conformBatch } from '../../src/schema/conform.ts';
import { expandGlobs } from '../../src/runtime/files.ts';
import { firstMatch } from '../../src/runtime/first-match.ts';
import { BadRecords, badRecordConfig, shownPath } from '../../src/runtime/rejects.ts';

const ID = 'ingest/read-ipc';
const Config = z.object({
  paths: z
    .array(z.string().min(1))
    .min(1)
    .describe('Arrow IPC files or streams, or glob patterns; all must have the schema of the first'),
  columns: z.array(z.string().min(1)).min(1).optional().describe('columns to keep, in this order (default: all)'),
  ...badRecordConfig,
});

const msg = (err: unknown) => (err instanceof Error ? err.message : String(err));

function project(schema: Schema, columns: readonly string[] | undefined, file: string): Schema {
  if (!columns) return schema;
  return new Schema(
    columns.map((c) => {
      const f = schema.fields.find((g) => g.name === c);
      if (!f)
        throw new FlowError(ID, `no column "${c}" (the file has ${schema.names.join(', ')})`, {
          file: shownPath(file),
        });
      return f;
    }),
    schema.metadata,
  );
}

/** The schema of an IPC file (from its footer) or stream (from its first message), read without
 * reading any batch. A file whose footer is gone falls back to the schema message after the magic. */
export function readIpcSchema(file: string, columns?: readonly string[]): Schema {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const at = (pos: number, n: number) => {
      const b = Buffer.alloc(Math.max(0, Math.min(n, size - pos)));
      readSync(fd, b, 0, b.length, pos);
      return b;
    };
    const isFile = at(0, 6).toString('latin1') === 'ARROW1';
    if (isFile && size >= 18 && at(size - 6, 6).toString('latin1') === 'ARROW1') {
      const len = at(size - 10, 4).readInt32LE(0);
      if (len > 0 && len <= size - 18) {
        try {
          return project(Footer.decode(at(size - 10 - len, len)).schema, columns, file);
        } catch {
          /* fall back to the schema message */
        }
      }
    }
    const start = isFile ? 8 : 0;
    const head = at(start, 8);
    const continued = head.length >= 4 && head.readInt32LE(0) === -1; // current format: 0xFFFFFFFF, then the length
    const len = head.length === 8 ? head.readInt32LE(continued ? 4 : 0) : -1;
    let schema: Schema | undefined;
    if (len > 0 && len <= size) {
      try {
        const r = RecordBatchReader.from(at(start, (continued ? 8 : 4) + len));
        r.open();
        schema = r.schema;
      } catch {
        schema = undefined;
      }
    }
    if (!schema)
      throw new FlowError(
        ID,
        `not a readable Arrow IPC ${isFile ? 'file (no footer and no schema message: truncated or damaged)' : 'file or stream (no schema message at the start)'}`,
        { file: shownPath(file), offset: start },
      );
    return project(schema, columns, file);
  } finally {
    closeSync(fd);
  }
}

type Conform = (b: RecordBatch) => RecordBatch;

/** Front to back: the stream format, or a file format whose footer is gone (then the tail is reported). */
async function* sequential(
  source: AsyncIterable<Uint8Array> | FileHandle,
  footerMissing: boolean,
  name: string,
  conform: Conform,
  bad: BadRecords,
): AsyncGenerator<RecordBatch> {
  let batches = 0,
    rows = 0;
  try {
    const reader =
      'fd' in source
        ? await RecordBatchReader.from(source)
        : await RecordBatchReader.from(source as AsyncIterable<Uint8Array>);
    for await (const b of reader) {
      yield conform(b);
      batches++;
      rows += b.numRows;
    }
  } catch (err) {
    if (err instanceof FlowError) throw err;
    const truncated = /Expected to read/.test(msg(err));
    await bad.report({
      reason: truncated ? 'truncated IPC data' : 'corrupt IPC data',
      detail: `${msg(err)} after ${batches} complete batches (${rows} rows); the rest of the file cannot be read`,
      where: { file: name, batch: batches, row: rows },
    });
    return;
  }
  if (footerMissing)
    await bad.report({
      reason: 'truncated IPC data',
      detail:
        `the IPC file has no footer (it was cut short); ${batches} complete batches (${rows} rows) before the ` +
        `cut were read`,
      where: { file: name, batch: batches, row: rows },
    });
}

/** Through the footer: each batch on its own, so one that fails to decode costs only itself. */
async function* randomAccess(
  reader: AsyncRecordBatchFileReader,
  name: string,
  conform: Conform,
  bad: BadRecords,
): AsyncGenerator<RecordBatch> {
  let rows = 0;
  for (let i = 0; i < reader.numRecordBatches; i++) {
    let b: RecordBatch | null;
    try {
      b = await reader.readRecordBatch(i);
    } catch (err) {
      await bad.report({
        reason: 'corrupt IPC data',
        detail: `batch ${i} of ${reader.numRecordBatches} cannot be decoded (${msg(err)}); the other batches are read`,
        where: { file: name, batch: i, row: rows },
      });
      continue;
    }
    if (b) {
      rows += b.numRows;
      yield conform(b);
    }
  }
}

async function* readOne(file: string, conform: Conform, bad: BadRecords): AsyncGenerator<RecordBatch> {
  const name = shownPath(file);
  const fh = await open(file);
  try {
    const head = Buffer.alloc(6);
    const isFile = (await fh.read(head, 0, 6, 0)).bytesRead === 6 && head.toString('latin1') === 'ARROW1';
    if (!isFile) {
      yield* sequential(fh, false, name, conform, bad);
      return;
    }
    const reader = await RecordBatchReader.from(fh)
      .then(async (r) => {
        await r.open();
        return r;
      })
      .catch(() => undefined);
    if (reader?.isFile()) yield* randomAccess(reader, name, conform, bad);
    else yield* sequential(createReadStream(file, { start: 8 }), true, name, conform, bad);
  } finally {
    await fh.close();
  }
}

export const readIpc = defineSource({
  id: ID,
  description: 'read Arrow IPC files or streams batch by batch',
  config: Config,
  output: (cfg) => readIpcSchema(firstMatch(cfg.paths), cfg.columns) as Schema<TypeMap>,
  async *make(cfg, ctx): AsyncGenerator<RecordBatch<TypeMap>> {
    const files = await expandGlobs(cfg.paths);
    const declared = readIpcSchema(files[0]!, cfg.columns);
    const bad = new BadRecords(ctx, cfg.onError, cfg.rejects);
    try {
      for (const file of files) {
        const conform = (b: RecordBatch) => {
          const out = conformBatch(b, declared);
          if (typeof out === 'string')
            throw new FlowError(ctx.nodeId, `schema differs from the first file's: ${out}`, { file: shownPath(file) });
          return out;
        };
        yield* readOne(file, conform, bad);
      }
    } finally {
      await bad.close();
    }
  },
});
