// The rows a kernel dropped, written to its rejects file by the operator boundary on the main thread,
// which holds the input batch: the kernel (maybe on a worker thread) sends only row numbers and reasons
// (kernel-stats.ts). One JSON object per row: {reason, batch, row, id?, record?}, where record is the
// value of the column the kernel read (cut like a reader's bad record) and id the document's id.
import type { RecordBatch } from 'apache-arrow';
import { RECORD_CHARS, RejectsFile } from '../runtime/rejects-file.ts';
import type { KernelStats } from './kernel-stats.ts';

/** The rejects files of one operator instance (one run), opened with the first batch naming them. */
export class RowRejects {
  private readonly files = new Map<string, RejectsFile>();

  /** Queues the rows `stats` lists as rejected from `input`, the operator's batch `batch`. */
  write(input: RecordBatch, stats: KernelStats | undefined, batch: number): void {
    const r = stats?.rejects;
    if (!r) return;
    let file = this.files.get(r.path);
    if (!file) this.files.set(r.path, (file = new RejectsFile(r.path)));
    if (r.rows.length === 0) return;
    const col = input.getChild(r.column);
    const ids = input.getChild('id');
    file.append(
      r.rows.map((row, k) => {
        const id: unknown = ids?.get(row);
        const record: unknown = col?.get(row);
        return {
          reason: r.reasons[k],
          batch,
          row,
          ...(typeof id === 'string' ? { id } : {}),
          ...(typeof record === 'string' ? { record: record.slice(0, RECORD_CHARS) } : {}),
        };
      }),
    );
  }

  /** Puts every file in place once written; undefined when there is none. */
  close(): Promise<void> | undefined {
    if (this.files.size === 0) return undefined;
    const files = [...this.files.values()];
    this.files.clear();
    return Promise.all(files.map((f) => f.close())).then(() => undefined);
  }
}
