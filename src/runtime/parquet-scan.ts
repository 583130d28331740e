// The worker-thread half of reading Parquet (run through `isolated`): open files with parquet-wasm and
// decode them row group by row group into Arrow IPC buffers, saying which file and row group it is on
// so the caller can name where a crash happened. Kept free of heavy imports: each thread loads it.
import { openAsBlob } from 'node:fs';
import * as pw from 'parquet-wasm';
import type { IsolatedItem } from './isolated.ts';

export interface ParquetScanArgs {
  files: string[];
  start: { file: number; group: number };
  columns?: string[];
  batchRows: number;
}

export type ParquetScanMsg =
  /** about to open a file: a crash before its 'file' message is a problem with the whole file */
  | { kind: 'open'; file: number }
  | { kind: 'file'; file: number; groupRows: number[] }
  | { kind: 'group'; file: number; group: number }
  | { kind: 'batch'; ipc: Uint8Array }
  /** a row group failed with an ordinary error (the thread is still usable) */
  | { kind: 'bad'; file: number; group: number; message: string }
  | { kind: 'unreadable'; file: number; message: string };

const msg = (err: unknown) => (err instanceof Error ? err.message : String(err));

export async function* parquetScan(a: ParquetScanArgs): AsyncGenerator<IsolatedItem<ParquetScanMsg>> {
  for (let f = a.start.file; f < a.files.length; f++) {
    yield { value: { kind: 'open', file: f } };
    let pf: pw.ParquetFile;
    try {
      pf = await pw.ParquetFile.fromFile(await openAsBlob(a.files[f]!));
    } catch (err) {
      yield { value: { kind: 'unreadable', file: f, message: msg(err) } };
      return;
    }
    const md = pf.metadata();
    const groupRows = Array.from({ length: md.numRowGroups() }, (_, g) => md.rowGroup(g).numRows());
    yield { value: { kind: 'file', file: f, groupRows } };
    for (let g = f === a.start.file ? a.start.group : 0; g < groupRows.length; g++) {
      yield { value: { kind: 'group', file: f, group: g } };
      try {
        const stream = await pf.stream({
          rowGroups: [g],
          batchSize: a.batchRows,
          ...(a.columns ? { columns: a.columns } : {}),
        });
        for await (const b of stream as AsyncIterable<pw.RecordBatch>) {
          const ipc = b.intoIPCStream();
          yield { value: { kind: 'batch', ipc }, transfer: [ipc.buffer as ArrayBuffer] };
        }
      } catch (err) {
        yield { value: { kind: 'bad', file: f, group: g, message: msg(err) } };
      }
    }
    pf.free();
  }
}
