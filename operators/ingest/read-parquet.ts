// Parquet files (globs allowed) through parquet-wasm, one row group at a time, so memory is bounded by
// a row group, whatever the file size. The declared schema is the first file's (read from its footer
// when the pipeline is validated); every file must match it.
//
// Decoding runs in a worker thread (src/runtime/parquet-scan.ts, through isolated.ts): on a corrupt
// page parquet-wasm's async reader traps inside WebAssembly, which would kill the process. In the
// worker the trap ends only that thread; the row groups read before it are kept, and with onError
// "skip" a new thread goes on from the next row group.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Schema, tableFromIPC, type RecordBatch, type TypeMap } from 'apache-arrow';
import { createRequire } from 'node:module';
import type * as ParquetWasm from 'parquet-wasm';
import { z } from 'zod';
import { defineSource } from '../../src/core/operator.ts';
import { FlowError } from '../../src/core/errors.ts';
import { conformBatch } from '../../src/schema/conform.ts';
import { expandGlobs } from '../../src/runtime/files.ts';
import { isolated, IsolatedCrash } from '../../src/runtime/isolated.ts';
import type { ParquetScanArgs, ParquetScanMsg } from '../../src/runtime/parquet-scan.ts';
import { BadRecords, badRecordConfig, shownPath } from '../../src/runtime/rejects.ts';
import { firstMatch } from '../../src/runtime/first-match.ts';

const ID = 'ingest/read-parquet';
// parquet-wasm loads (and compiles its WebAssembly) on the first Parquet footer read, not with every
// pipeline that merely could read Parquet
let pwModule: typeof ParquetWasm | undefined;
const pw = (): typeof ParquetWasm =>
  (pwModule ??= createRequire(import.meta.url)('parquet-wasm') as typeof ParquetWasm);

const SCAN = new URL('../../src/runtime/parquet-scan.ts', import.meta.url).href;
const Config = z.object({
  paths: z
    .array(z.string().min(1))
    .min(1)
    .describe('Parquet files or glob patterns; all must have the schema of the first'),
  columns: z.array(z.string().min(1)).min(1).optional().describe('columns to read, in this order (default: all)'),
  batchRows: z
    .number()
    .int()
    .min(1)
    .default(8192)
    .describe('rows per emitted batch (a row group is split into batches of this size)'),
  ...badRecordConfig,
});
type Cfg = z.output<typeof Config>;

const msg = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The Arrow schema stored in a Parquet file's footer, read without reading its data. */
export function readParquetSchema(file: string, columns?: readonly string[]): Schema {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const tail = Buffer.alloc(8);
    if (size < 12 || readSync(fd, tail, 0, 8, size - 8) !== 8 || tail.toString('latin1', 4) !== 'PAR1')
      throw new FlowError(
        ID,
        'not a Parquet file: it does not end with the PAR1 magic (truncated, or another format?)',
        { file: shownPath(file), offset: size },
      );
    const len = tail.readUInt32LE(0);
    if (len + 12 > size)
      throw new FlowError(ID, `Parquet footer length ${len} exceeds the file size ${size}: the file is damaged`, {
        file: shownPath(file),
        offset: size - 8,
      });
    // a minimal file parquet-wasm accepts: magic, footer, length, magic (the footer holds the schema)
    const buf = Buffer.alloc(len + 12);
    buf.write('PAR1', 0, 'latin1');
    readSync(fd, buf, 4, len + 8, size - 8 - len);
    let schema: Schema;
    try {
      schema = tableFromIPC(pw().readSchema(buf).intoIPCStream()).schema;
    } catch (err) {
      throw new FlowError(ID, `cannot decode the Parquet footer: ${msg(err)}`, {
        file: shownPath(file),
        offset: size - 8 - len,
      });
    }
    if (!columns) return schema;
    const fields = columns.map((c) => {
      const f = schema.fields.find((g) => g.name === c);
      if (!f)
        throw new FlowError(ID, `no column "${c}" (the file has ${schema.names.join(', ')})`, {
          file: shownPath(file),
        });
      return f;
    });
    return new Schema(fields, schema.metadata);
  } finally {
    closeSync(fd);
  }
}

async function* readFiles(
  cfg: Cfg,
  files: string[],
  declared: Schema,
  bad: BadRecords,
  nodeId: string,
): AsyncGenerator<RecordBatch> {
  let start = { file: 0, group: 0 };
  while (start.file < files.length) {
    let file = start.file,
      group = -1,
      emitted = 0,
      groupRows: number[] = [];
    const lost = (why: string) => {
      const first = groupRows.slice(0, group).reduce((s, n) => s + n, 0);
      const rows = groupRows[group] ?? 0;
      return {
        reason: 'corrupt row group',
        rows: rows - emitted,
        detail:
          `row group ${group} of ${groupRows.length} (rows ${first}-${first + rows - 1}) cannot be decoded ` +
          `(parquet-wasm: ${why}); ${emitted} of its rows were read before the error`,
        where: { file: shownPath(files[file]!), row: first + emitted },
      };
    };
    try {
      const args: ParquetScanArgs = { files, start, columns: cfg.columns, batchRows: cfg.batchRows };
      for await (const m of isolated<ParquetScanMsg>(SCAN, 'parquetScan', args)) {
        switch (m.kind) {
          case 'unreadable':
            throw new FlowError(nodeId, `cannot open the Parquet file: ${m.message}`, {
              file: shownPath(files[m.file]!),
            });
          case 'open':
            file = m.file;
            group = -1;
            groupRows = [];
            break;
          case 'file':
            groupRows = m.groupRows;
            break;
          case 'group':
            group = m.group;
            emitted = 0;
            break;
          case 'bad':
            await bad.report(lost(m.message));
            break;
          case 'batch':
            for (const b of tableFromIPC(m.ipc).batches) {
              const out = conformBatch(b, declared);
              if (typeof out === 'string')
                throw new FlowError(nodeId, `schema differs from the first file's: ${out}`, {
                  file: shownPath(files[file]!),
                });
              emitted += b.numRows;
              yield out;
            }
        }
      }
      return;
    } catch (err) {
      if (!(err instanceof IsolatedCrash)) throw err;
      if (group < 0)
        throw new FlowError(
          nodeId,
          `cannot open the Parquet file (its footer or metadata is damaged): ${err.message}`,
          { file: shownPath(files[file]!) },
          { cause: err },
        );
      await bad.report(lost(err.message));
      start = group + 1 < groupRows.length ? { file, group: group + 1 } : { file: file + 1, group: 0 };
    }
  }
}

export const readParquet = defineSource({
  id: ID,
  description: 'read Parquet files (parquet-wasm) row group by row group; corrupt row groups are bad records',
  config: Config,
  output: (cfg) => readParquetSchema(firstMatch(cfg.paths), cfg.columns) as Schema<TypeMap>,
  async *make(cfg, ctx): AsyncGenerator<RecordBatch<TypeMap>> {
    const files = await expandGlobs(cfg.paths);
    const declared = readParquetSchema(files[0]!, cfg.columns);
    const bad = new BadRecords(ctx, cfg.onError, cfg.rejects);
    try {
      yield* readFiles(cfg, files, declared, bad, ctx.nodeId);
    } finally {
      await bad.close();
    }
  },
});
