// Files of several kinds (a glob over a folder of .jsonl, .txt, .parquet, .warc.gz ...), each read by
// the reader of its own kind: the files are listed in order (sorted within each pattern, patterns in
// the order given), and each run of consecutive files of one kind goes to that kind's reader, so the
// documents come in file order and a re-run reads them in the same order (what resuming relies on).
// Every batch is a Doc batch: Parquet and Arrow IPC files give their text, id, url and source columns
// (ids from file and row when they have none); WARC records' HTML goes through clean/extract-html.
import { existsSync } from 'node:fs';
import type { RecordBatch, Schema } from 'apache-arrow';
import { z } from 'zod';
import type { OperatorContext } from '../../src/core/context.ts';
import { FlowError } from '../../src/core/errors.ts';
import { recordKernelStats } from '../../src/core/kernel-stats.ts';
import { defineSource, defOf, parseConfig, type AnyFactory } from '../../src/core/operator.ts';
import { expandGlobs } from '../../src/runtime/files.ts';
import { badRecordConfig, shownPath } from '../../src/runtime/rejects.ts';
import { conformBatch } from '../../src/schema/conform.ts';
import { docSchema, type Doc } from '../../src/schema/index.ts';
import { inputKind, type InputKind } from './input-kind.ts';
import { readIpc } from './read-ipc.ts';
import { readJsonl } from './read-jsonl.ts';
import { readParquet } from './read-parquet.ts';
import { readText } from './read-text.ts';
import { readWarc } from './read-warc.ts';
import { tableDocs } from './table-docs.ts';

const Config = z.object({
  paths: z
    .array(z.string().min(1))
    .min(1)
    .describe(
      'files or glob patterns; each file is read by the reader of its kind: .jsonl/.ndjson(.gz) JSON Lines, ' +
        '.parquet, ' +
        '.arrow/.arrows/.ipc/.feather Arrow IPC, .warc(.gz) WARC (HTML extracted), anything else plain text (one ' +
        'document per file)',
    ),
  batchBytes: z
    .number()
    .int()
    .min(1)
    .default(8 << 20)
    .describe('a batch of JSON Lines, text or WARC documents is emitted once its text reaches this many bytes'),
  source: z
    .string()
    .optional()
    .describe(
      "value of the source column for every document (default: each reader's own, 'text', 'jsonl', 'warc'; for " +
        "Parquet and IPC files without one, 'parquet' or 'arrow')",
    ),
  onError: badRecordConfig.onError,
});
type Cfg = z.output<typeof Config>;

/** Text extraction from HTML is another operator, loaded only when a WARC file is read. */
const EXTRACT_HTML = new URL('../clean/extract-html.ts', import.meta.url);

/** The files in order, cut into runs of consecutive files of one kind. */
function runsOf(files: readonly string[]): Array<{ kind: Exclude<InputKind, 'url'>; files: string[] }> {
  const runs: Array<{ kind: Exclude<InputKind, 'url'>; files: string[] }> = [];
  for (const file of files) {
    const kind = inputKind(file) as Exclude<InputKind, 'url'>; // a listed file is never a URL
    const last = runs[runs.length - 1];
    if (last?.kind === kind) last.files.push(file);
    else runs.push({ kind, files: [file] });
  }
  return runs;
}

/** A reader's batches, read in this node's context (its stats, log and credit budget). */
function read(reader: AnyFactory, config: Record<string, unknown>, ctx: OperatorContext): AsyncIterable<RecordBatch> {
  const def = defOf(reader);
  if (def.kind !== 'source') throw new Error(`internal: ${def.id} is not a reader`);
  return def.make(parseConfig(def, config, ctx.nodeId), ctx);
}

/** Parquet or IPC files, one at a time (ids count rows per file), as documents. */
async function* tables(
  reader: AnyFactory,
  kind: string,
  files: string[],
  cfg: Cfg,
  schema: Schema<Doc>,
  ctx: OperatorContext,
): AsyncGenerator<RecordBatch> {
  for (const file of files) {
    let row = 0;
    for await (const b of read(reader, { paths: [file], onError: cfg.onError }, ctx)) {
      const docs = tableDocs(b, schema, file, row, cfg.source ?? kind);
      if (typeof docs === 'string')
        throw new FlowError(
          ctx.nodeId,
          `cannot read ${kind} documents: ${docs}; give the text in a Utf8 column named "text"`,
          { file: shownPath(file) },
        );
      ctx.stats.drop('no text', docs.nulls);
      row += b.numRows;
      yield docs.docs;
    }
  }
}

/** WARC records with their HTML replaced by its main text. */
async function* warc(files: string[], cfg: Cfg, ctx: OperatorContext): AsyncGenerator<RecordBatch> {
  if (!existsSync(EXTRACT_HTML))
    throw new FlowError(
      ctx.nodeId,
      'WARC records are HTML and need the clean/extract-html operator, which this installation lacks; leave the ' +
        'WARC files out of the input',
      { file: shownPath(files[0]!) },
    );
  const mod = (await import(EXTRACT_HTML.href)) as Record<string, unknown>;
  const factory = Object.values(mod).find(
    (v): v is AnyFactory => typeof v === 'function' && (v as Partial<AnyFactory>).def?.id === 'clean/extract-html',
  );
  const def = factory && defOf(factory);
  if (!def || def.kind === 'source' || def.kind === 'sink' || !def.kernel)
    throw new FlowError(
      ctx.nodeId,
      `${EXTRACT_HTML.pathname} exports no clean/extract-html operator with a kernel: the package is incomplete ` +
        `(reinstall it)`,
    );
  const extract = def.kernel(parseConfig(def, {}, ctx.nodeId));
  for await (const b of read(
    readWarc,
    { paths: files, batchBytes: cfg.batchBytes, onError: cfg.onError, ...source(cfg) },
    ctx,
  )) {
    const out = extract(b);
    recordKernelStats(out, ctx.stats);
    if (out.numRows > 0) yield out;
  }
}

const source = (cfg: Cfg) => (cfg.source === undefined ? {} : { source: cfg.source });

function documents(
  kind: Exclude<InputKind, 'url'>,
  files: string[],
  cfg: Cfg,
  schema: Schema<Doc>,
  ctx: OperatorContext,
): AsyncIterable<RecordBatch> {
  const common = { paths: files, onError: cfg.onError, ...source(cfg) };
  switch (kind) {
    case 'text':
      return read(readText, { ...common, unit: 'file', batchBytes: cfg.batchBytes }, ctx);
    case 'jsonl':
      return read(readJsonl, { ...common, batchBytes: cfg.batchBytes }, ctx);
    case 'parquet':
      return tables(readParquet, kind, files, cfg, schema, ctx);
    case 'arrow':
      return tables(readIpc, kind, files, cfg, schema, ctx);
    case 'warc':
      return warc(files, cfg, ctx);
  }
}

export const readFiles = defineSource({
  id: 'ingest/read-files',
  description:
    'read files of several kinds (a glob over mixed files), each with the reader of its kind, as documents in file ' +
    'order',
  config: Config,
  output: () => docSchema(),
  async *make(cfg, ctx): AsyncGenerator<RecordBatch<Doc>> {
    const schema = docSchema();
    for (const run of runsOf(await expandGlobs(cfg.paths))) {
      for await (const b of documents(run.kind, run.files, cfg, schema, ctx)) {
        const docs = conformBatch(b, schema);
        if (typeof docs === 'string')
          throw new FlowError(ctx.nodeId, `${run.kind} documents do not fit the Doc columns: ${docs}`, {
            file: shownPath(run.files[0]!),
          });
        ctx.stats.count(`documents.${run.kind}`, docs.numRows);
        yield docs;
      }
    }
  },
});
