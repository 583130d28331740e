// Bad input records (a malformed line, invalid UTF-8, a truncated tail, a corrupt row group): a reader
// either stops with a FlowError naming the file and position ('fail'), or counts the record as a drop
// with its reason, logs the first few, appends it to an optional rejects file and goes on ('skip').
import { isAbsolute, relative } from 'node:path';
import { z } from 'zod';
import type { OperatorContext } from '../core/context.ts';
import { FlowError, type InputLocation } from '../core/errors.ts';
import { RECORD_CHARS, RejectsFile } from './rejects-file.ts';

/** Config fields every reader shares (spread into its zod object). */
export const badRecordConfig = {
  onError: z
    .enum(['skip', 'fail'])
    .default('skip')
    .describe(
      'a bad record (malformed line, invalid UTF-8, oversized record, truncated or corrupt tail of a .gz/WARC file, ' +
        'corrupt ' +
        'Parquet row group or IPC batch): "skip" counts it as a drop with its reason, logs the first few with file ' +
        'and position, ' +
        'writes it to `rejects` if set, and keeps every good record before and after it; "fail" stops the run with ' +
        'an error naming ' +
        'the file and position. Problems with a whole file (missing, not in the expected format, unreadable footer ' +
        'or schema, ' +
        'schema different from the first file) always fail.',
    ),
  rejects: z
    .string()
    .min(1)
    .optional()
    .describe(
      'JSON Lines file receiving one object per skipped record {reason, detail, file, line?, offset?, row?, rows, ' +
        'record?}; ' +
        'written to a temporary name and renamed into place when the reader finishes',
    ),
};

export interface BadRecord {
  /** short category, used as the stats drop reason ("malformed JSON") */
  reason: string;
  /** what exactly is wrong, for the message and the rejects file */
  detail: string;
  where: InputLocation & { file: string };
  /** rows lost (default 1) */
  rows?: number;
  /** the raw record text, if it is worth keeping (cut to 4 KiB) */
  record?: string;
}

/** A file name for messages: relative to the working directory when inside it, else absolute. */
export function shownPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

const LOG_FIRST = 5;

export class BadRecords {
  private file?: RejectsFile;
  skipped = 0;

  constructor(
    private readonly ctx: OperatorContext,
    private readonly policy: 'skip' | 'fail',
    rejectsPath?: string,
  ) {
    if (rejectsPath) this.file = new RejectsFile(rejectsPath);
  }

  /** Throws a FlowError under 'fail'; otherwise records the drop and returns. */
  async report(bad: BadRecord): Promise<void> {
    if (this.policy === 'fail') {
      throw new FlowError(
        this.ctx.nodeId,
        `${bad.reason}: ${bad.detail}; repair or remove the input, or set onError: "skip" to count and skip bad ` +
          `records`,
        bad.where,
      );
    }
    const rows = bad.rows ?? 1;
    this.ctx.stats.drop(bad.reason, Math.max(rows, 1));
    this.skipped++;
    if (this.skipped <= LOG_FIRST)
      this.ctx.log(`skipped: ${new FlowError(this.ctx.nodeId, `${bad.reason}: ${bad.detail}`, bad.where).message}`);
    if (this.skipped === LOG_FIRST + 1)
      this.ctx.log(
        `more bad records skipped: see the operator's drop counts${this.file ? ` and ${this.file.path}` : ''}`,
      );
    if (this.file) {
      const record = bad.record === undefined ? {} : { record: bad.record.slice(0, RECORD_CHARS) };
      await this.file.write([{ reason: bad.reason, detail: bad.detail, ...bad.where, rows, ...record }]);
    }
  }

  /** Puts the rejects file in place (also after a failure: it lists what was skipped until then). */
  async close(): Promise<void> {
    const f = this.file;
    this.file = undefined;
    if (f) await f.close();
  }
}
