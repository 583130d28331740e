// Prompt/response records for supervised fine-tuning from JSON Lines files (globs, .gz): the fields
// named by promptField and responseField (dots reach into nested objects) become the prompt and
// response columns sft-tokenize reads. A line that is not valid UTF-8 or JSON, or lacks either field as
// a string, is a bad record: counted as a drop with its file and line (and written to `rejects`), or
// fatal under onError: "fail".
import { fieldAt } from './read-jsonl.ts';
import { isUtf8 } from 'node:buffer';
import type { RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { defineSource } from '../../src/core/operator.ts';
import { RowBatcher } from '../../src/schema/row-batcher.ts';
import { expandGlobs, fileKey, stableId } from '../../src/runtime/files.ts';
import { CompressedInputError, firstInvalidUtf8, readLines } from '../../src/runtime/lines.ts';
import { BadRecords, badRecordConfig, shownPath } from '../../src/runtime/rejects.ts';
import { sftRecordSchema, type SftRecord } from '../posttrain/sft-data.ts';
import { readerBatches } from './reader-batches.ts';

const field = z.string().min(1);
const Config = z.object({
  paths: z.array(z.string().min(1)).min(1).describe('files or glob patterns; names ending in .gz are gunzipped'),
  promptField: field.default('prompt').describe('field holding the prompt (dots reach into nested objects)'),
  responseField: field.default('response').describe('field holding the response (dots reach into nested objects)'),
  idField: field.default('id').describe('field holding the id; when absent the id is a hash of file and line'),
  source: z.string().default('sft-jsonl').describe('value of the source column'),
  batchRows: z.number().int().min(1).default(256).describe('a batch is emitted once it holds this many records'),
  maxLineBytes: z
    .number()
    .int()
    .min(1)
    .default(64 << 20)
    .describe('a longer line is a bad record: memory stays bounded'),
  ...badRecordConfig,
});

const kind = (v: unknown) =>
  v === undefined ? 'missing' : `a ${v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v}, not a string`;

export const readSftJsonl = defineSource({
  id: 'ingest/read-sft-jsonl',
  description: 'read prompt/response records for fine-tuning from JSON Lines files (plain or .gz)',
  config: Config,
  output: () => sftRecordSchema(),
  async *make(cfg, ctx): AsyncGenerator<RecordBatch<SftRecord>> {
    const files = await expandGlobs(cfg.paths);
    const bad = new BadRecords(ctx, cfg.onError, cfg.rejects);
    const rows = new RowBatcher(sftRecordSchema(), { batchRows: cfg.batchRows });
    yield* readerBatches(rows, bad, async function* () {
      for (const file of files) {
        const key = fileKey(file);
        const name = shownPath(file);
        try {
          for await (const lines of readLines(file, { maxLineBytes: cfg.maxLineBytes })) {
            for (const l of lines) {
              const where = { file: name, line: l.line, offset: l.offset };
              if (l.tooLong) {
                await bad.report({
                  reason: 'line too long',
                  detail: `line of ${l.tooLong.length} bytes exceeds maxLineBytes ${cfg.maxLineBytes}`,
                  where,
                });
                continue;
              }
              if (!isUtf8(l.bytes)) {
                await bad.report({
                  reason: 'invalid UTF-8',
                  detail: 'invalid UTF-8 byte sequence in the line; convert the file to UTF-8',
                  where: { ...where, offset: l.offset + firstInvalidUtf8(l.bytes) },
                });
                continue;
              }
              const raw = l.bytes.toString('utf8');
              if (/^\s*$/.test(raw)) continue;
              let obj: unknown;
              try {
                obj = JSON.parse(raw);
              } catch (err) {
                const detail = err instanceof Error ? err.message : String(err);
                await bad.report({ reason: 'malformed JSON', detail, record: raw, where });
                continue;
              }
              const prompt = fieldAt(obj, cfg.promptField);
              const response = fieldAt(obj, cfg.responseField);
              if (typeof prompt !== 'string' || typeof response !== 'string') {
                const [f, v] = typeof prompt !== 'string' ? [cfg.promptField, prompt] : [cfg.responseField, response];
                const which = f === cfg.promptField ? 'promptField' : 'responseField';
                await bad.report({
                  reason: 'no prompt or response',
                  detail: `field "${f}" is ${kind(v)}; set ${which} to the field holding it`,
                  record: raw,
                  where,
                });
                continue;
              }
              const id = fieldAt(obj, cfg.idField);
              rows.push({
                id: typeof id === 'string' || typeof id === 'number' ? String(id) : stableId(`${key}:${l.line}`),
                prompt,
                response,
                source: cfg.source,
              });
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
