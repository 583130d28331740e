// JSON Lines files (globs allowed, .gz decompressed on the fly) as documents, streamed line by line.
// A line that is not valid UTF-8 or JSON, or lacks a string text field, is a bad record: counted as a
// drop with its file and line number (and written to `rejects`), or fatal under onError: "fail".
import { isUtf8 } from 'node:buffer';
import type { RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { defineSource } from '../../src/core/operator.ts';
import { docSchema, type Doc } from '../../src/schema/index.ts';
import { RowBatcher } from '../../src/schema/row-batcher.ts';
import { expandGlobs, fileKey, stableId } from '../../src/runtime/files.ts';
import { CompressedInputError, firstInvalidUtf8, readLines, type ByteLine } from '../../src/runtime/lines.ts';
import { BadRecords, badRecordConfig, shownPath, type BadRecord } from '../../src/runtime/rejects.ts';
import { docBatchLimits, readerBatches } from './reader-batches.ts';

const field = z.string().min(1);
const Config = z.object({
  paths: z
    .array(z.string().min(1))
    .min(1)
    .describe('files or glob patterns; names ending in .gz are gunzipped while reading'),
  textField: field
    .default('text')
    .describe('field holding the document text (dots reach into nested objects: "meta.body")'),
  idField: field.default('id').describe('field holding the id; when absent the id is a hash of file and line'),
  urlField: field.default('url').describe('field holding the url; when absent url is null'),
  source: z.string().default('jsonl').describe('value of the source column'),
  ...docBatchLimits,
  maxLineBytes: z
    .number()
    .int()
    .min(1)
    .default(64 << 20)
    .describe('a longer line is a bad record: memory stays bounded'),
  ...badRecordConfig,
});
type Cfg = z.output<typeof Config>;

/** The value at a dotted path ("meta.body") of a parsed JSON line; undefined where the path ends. */
export const fieldAt = (obj: unknown, path: string): unknown => {
  let v: unknown = obj;
  for (const k of path.split('.')) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
};
const asId = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;

type Parsed =
  | { ok: true; id: string | undefined; text: string; url: string | null }
  | { ok: false; bad: Omit<BadRecord, 'where'>; offset?: number };

/** One line to a document, or what is wrong with it. Blank lines are not records (undefined). */
export function parseLine(
  l: ByteLine,
  cfg: Pick<Cfg, 'textField' | 'idField' | 'urlField' | 'maxLineBytes'>,
): Parsed | undefined {
  if (l.tooLong)
    return {
      ok: false,
      bad: {
        reason: 'line too long',
        detail: `line of ${l.tooLong.length} bytes exceeds maxLineBytes ${cfg.maxLineBytes}`,
      },
    };
  if (!isUtf8(l.bytes))
    return {
      ok: false,
      bad: { reason: 'invalid UTF-8', detail: 'invalid UTF-8 byte sequence in the line; convert the file to UTF-8' },
      offset: l.offset + firstInvalidUtf8(l.bytes),
    };
  const raw = l.bytes.toString('utf8');
  if (/^\s*$/.test(raw)) return undefined;
  let obj: unknown;
  try {
    obj = JSON.parse(raw);
  } catch (err) {
    return {
      ok: false,
      bad: { reason: 'malformed JSON', detail: err instanceof Error ? err.message : String(err), record: raw },
    };
  }
  const text = fieldAt(obj, cfg.textField);
  if (typeof text !== 'string') {
    const what =
      text === undefined
        ? 'missing'
        : `a ${text === null ? 'null' : Array.isArray(text) ? 'array' : typeof text}, not a string`;
    return {
      ok: false,
      bad: {
        reason: 'no text field',
        detail: `field "${cfg.textField}" is ${what}; set textField to the field holding the text`,
        record: raw,
      },
    };
  }
  const url = fieldAt(obj, cfg.urlField);
  return { ok: true, id: asId(fieldAt(obj, cfg.idField)), text, url: typeof url === 'string' ? url : null };
}

export const readJsonl = defineSource({
  id: 'ingest/read-jsonl',
  description: 'read JSON Lines files (plain or .gz) as documents, with configurable text/id/url fields',
  config: Config,
  output: () => docSchema(),
  async *make(cfg, ctx): AsyncGenerator<RecordBatch<Doc>> {
    const files = await expandGlobs(cfg.paths);
    const schema = docSchema();
    const bad = new BadRecords(ctx, cfg.onError, cfg.rejects);
    const rows = new RowBatcher(schema, cfg);
    yield* readerBatches(rows, bad, async function* () {
      for (const file of files) {
        const key = fileKey(file);
        const name = shownPath(file);
        try {
          for await (const lines of readLines(file, { maxLineBytes: cfg.maxLineBytes })) {
            for (const l of lines) {
              const p = parseLine(l, cfg);
              if (!p) continue;
              if (!p.ok) {
                await bad.report({ ...p.bad, where: { file: name, line: l.line, offset: p.offset ?? l.offset } });
                continue;
              }
              rows.push(
                { id: p.id ?? stableId(`${key}:${l.line}`), text: p.text, url: p.url, source: cfg.source },
                l.bytes.length,
              );
              if (rows.full) yield rows.flush();
            }
          }
        } catch (err) {
          if (!(err instanceof CompressedInputError)) throw err;
          await bad.report(err.badRecord(name, 'lines'));
        }
      }
    });
  },
});
