// Plain-text files (globs allowed, .gz decompressed on the fly) as documents: one per file, per
// blank-line-separated paragraph, or per line. Files are streamed line by line, so memory is bounded by
// one read chunk, one document (at most maxDocBytes) and one batch, whatever the file size; with one
// document per file, a plain file is read whole instead (it is one document: the same bound) and its
// bytes go into the batch without being decoded and encoded again (whole-file.ts, doc-batcher.ts).
import { isUtf8 } from 'node:buffer';
import type { RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import type { OperatorContext } from '../../src/core/context.ts';
import { defineSource } from '../../src/core/operator.ts';
import { docSchema, type Doc } from '../../src/schema/index.ts';
import { expandGlobs, fileKey, stableId } from '../../src/runtime/files.ts';
import { CompressedInputError, firstInvalidUtf8, readLines } from '../../src/runtime/lines.ts';
import { BadRecords, badRecordConfig, shownPath, type BadRecord } from '../../src/runtime/rejects.ts';
import { DocBatcher } from './doc-batcher.ts';
import { WholeFileReader } from './whole-file.ts';
import { docBatchLimits, readerBatches } from './reader-batches.ts';

const Config = z.object({
  paths: z
    .array(z.string().min(1))
    .min(1)
    .describe('files or glob patterns; names ending in .gz are gunzipped while reading'),
  unit: z
    .enum(['file', 'paragraph', 'line'])
    .default('file')
    .describe('one document per file, per blank-line-separated paragraph, or per line'),
  source: z.string().default('text').describe('value of the source column'),
  ...docBatchLimits,
  minChars: z
    .number()
    .int()
    .min(0)
    .default(1)
    .describe('documents shorter than this (after trimming) are dropped as "too short"'),
  maxDocBytes: z
    .number()
    .int()
    .min(1)
    .default(64 << 20)
    .describe('a longer document (file, paragraph or line) is a bad record: memory stays bounded'),
  ...badRecordConfig,
});

type Cfg = z.output<typeof Config>;

const TURN_BYTES = 1 << 20;

/** The document being assembled: its lines, where it starts, and the first problem found in it. */
interface Unit {
  parts: string[];
  bytes: number;
  offset: number;
  line: number;
  bad?: BadRecord;
}

export { firstInvalidUtf8 };

export const readText = defineSource({
  id: 'ingest/read-text',
  description: 'read UTF-8 text files (plain or .gz) as documents: per file, per paragraph or per line',
  config: Config,
  output: () => docSchema(),
  async *make(cfg, ctx): AsyncGenerator<RecordBatch<Doc>> {
    const files = await expandGlobs(cfg.paths);
    const schema = docSchema();
    const bad = new BadRecords(ctx, cfg.onError, cfg.rejects);
    const rows = new DocBatcher(schema, cfg, ctx.threaded);
    // one document per file: a plain file is read whole and its bytes go into the batch as they are
    const whole = cfg.unit === 'file' ? new WholeFileReader() : undefined;
    yield* readerBatches(rows, bad, () => documents(files, cfg, ctx, rows, bad, whole));
  },
});

/** The documents of `files` into `rows`, a batch out whenever it is full. At module level rather than a
 * closure in make: one compiled copy serves every pipeline a process runs (a cluster worker runs one per
 * work item; each new closure of a 90-line generator was optimized again, 100-200 ms of compiling). */
async function* documents(
  files: string[],
  cfg: Cfg,
  ctx: OperatorContext,
  rows: DocBatcher,
  bad: BadRecords,
  whole: WholeFileReader | undefined,
): AsyncGenerator<RecordBatch<Doc>> {
  const into = (n: number) => rows.reserve(n); // files are read straight into the batch's text
  let sinceTurn = 0;
  for (const file of files) {
    const key = fileKey(file);
    const doc = whole?.read(file, cfg.maxDocBytes, cfg.minChars, into);
    if (doc) {
      if (doc.weight === 0) continue; // an empty file holds no document (as on the line path)
      if (doc.chars >= 0 && doc.chars < cfg.minChars) ctx.stats.drop('too short');
      else
        rows.push({ id: stableId(`${key}:${doc.offset}`), text: doc.bytes, url: null, source: cfg.source }, doc.weight);
      if (rows.full) yield rows.flush();
      // a turn of the event loop every TURN_BYTES, as the line path takes one per read chunk (one
      // per file cost a loop iteration per small file)
      if ((sinceTurn += doc.bytes.length + 1) >= TURN_BYTES) {
        sinceTurn = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      continue;
    }
    const name = shownPath(file);
    let unit: Unit | undefined;
    /** close the current document: emit it, or report why not */
    const finish = async () => {
      const u = unit;
      unit = undefined;
      if (!u) return;
      if (u.bad) {
        await bad.report(u.bad);
        return;
      }
      const t = u.parts.join('\n').trim();
      if (t.length < cfg.minChars) {
        ctx.stats.drop('too short');
        return;
      }
      rows.push({ id: stableId(`${key}:${u.offset}`), text: t, url: null, source: cfg.source }, u.bytes);
    };
    try {
      for await (const lines of readLines(file, { maxLineBytes: cfg.maxDocBytes })) {
        for (const l of lines) {
          let text = '';
          let problem: BadRecord | undefined;
          if (l.tooLong)
            problem = {
              reason: 'document too large',
              detail: `line of ${l.tooLong.length} bytes exceeds maxDocBytes ${cfg.maxDocBytes}`,
              where: { file: name, line: l.line, offset: l.offset },
            };
          else if (!isUtf8(l.bytes)) {
            const at = l.offset + firstInvalidUtf8(l.bytes);
            problem = {
              reason: 'invalid UTF-8',
              detail: `invalid UTF-8 byte sequence in ${cfg.unit === 'file' ? 'the file' : `the ${cfg.unit}`}; convert the file to UTF-8`,
              where: { file: name, line: l.line, offset: at },
            };
          } else text = l.bytes.toString('utf8');
          if (cfg.unit !== 'file' && !problem && /^\s*$/.test(text)) {
            await finish();
            continue;
          } // blank lines separate documents
          unit ??= { parts: [], bytes: 0, offset: l.offset, line: l.line };
          unit.bytes += l.bytes.length + 1;
          if (!unit.bad && unit.bytes > cfg.maxDocBytes)
            problem ??= {
              reason: 'document too large',
              detail: `${cfg.unit} longer than maxDocBytes ${cfg.maxDocBytes}`,
              where: { file: name, line: unit.line, offset: unit.offset },
            };
          if (problem) {
            unit.bad ??= problem;
            unit.parts = [];
          } else if (!unit.bad) unit.parts.push(text);
          if (cfg.unit === 'line') await finish();
          if (rows.full) yield rows.flush();
        }
      }
      await finish();
    } catch (err) {
      if (!(err instanceof CompressedInputError)) throw err;
      // the document in progress is incomplete: it goes with the truncated tail
      unit = undefined;
      await bad.report(err.badRecord(name, 'documents'));
    }
    if (rows.full) yield rows.flush();
  }
}
