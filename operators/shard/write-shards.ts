// Shards of a target size plus a manifest: the end of data preparation. Rows go to Arrow IPC files
// (packed rows, which readShards streams) or Parquet files (document/token tables), a new shard every
// shardRows rows or shardBytes (estimated) bytes. Each shard is written under a temporary name and
// renamed, then its `.done.json` record (rows, tokens, sha256, first input row) is written; the
// manifest is assembled from those records and written last. Output is deterministic (no timestamps,
// canonical schema), so a re-run over the same input reproduces every byte: a shard whose record and
// file verify is not written again; its rows are still consumed (re-encoded into a hash only, which
// must give the recorded sha256), which is how the re-run knows where the next shard starts.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Schema, type RecordBatch, type TypeMap } from 'apache-arrow';
import { FlowError } from '../../src/core/errors.ts';
import { defineSink } from '../../src/core/operator.ts';
import { AtomicFile } from '../../src/runtime/files.ts';
import { batchBytes } from '../../src/schema/build.ts';
import { conformBatch } from '../../src/schema/conform.ts';
import { canonicalSchema } from './canonical-schema.ts';
import {
  FORMAT,
  MANIFEST,
  VERSION,
  canonicalJson,
  describeSchema,
  doneFile,
  manifestText,
  sha256Hex,
  shardFile,
  type DoneRecord,
  type Manifest,
} from './manifest.ts';
import { loadDone, removeDeadTemps, removeShardsFrom, whyNotDone } from './resume.ts';
import { ShardOutput, type ShardFormat } from './shard-output.ts';
import { tokenColumnOf, tokenCounter } from './tokens.ts';
import { DEFAULT_SHARD_BYTES, ID, WriteShardsConfigSchema as Config } from './write-shards-config.ts';

export { DEFAULT_SHARD_BYTES, type WriteShardsConfig } from './write-shards-config.ts';

/** What is fixed once the first batch is seen. */
interface Plan {
  schema: Schema;
  configHash: string;
  manifest: Omit<Manifest, 'rows' | 'tokens' | 'bytes' | 'shards'>;
  countTokens: (b: RecordBatch) => number;
}

export const writeShards = defineSink({
  id: ID,
  description:
    'write rows to shard files of a target size plus manifest.json (atomic, deterministic, re-runs skip complete ' +
    'shards)',
  config: Config,
  input: () => new Schema<TypeMap>([]),
  make: (cfg, ctx) => {
    const dir = resolve(cfg.dir);
    mkdirSync(dir, { recursive: true });
    const cleaned = removeDeadTemps(dir);
    if (cleaned > 0) ctx.log(`removed ${cleaned} temporary file(s) left by an earlier run that was killed`);
    const format: ShardFormat = { kind: cfg.format, compression: cfg.compression, rowGroupRows: cfg.rowGroupRows };
    const shardRows = cfg.shardRows ?? Infinity;
    const shardBytes = cfg.shardBytes ?? (cfg.shardRows === undefined ? DEFAULT_SHARD_BYTES : Infinity);
    const writer = {
      shardRows: cfg.shardRows ?? null,
      shardBytes: Number.isFinite(shardBytes) ? shardBytes : null,
      prefix: cfg.prefix,
      ...(cfg.format === 'parquet' ? { compression: cfg.compression, rowGroupRows: cfg.rowGroupRows } : {}),
    };
    const done = loadDone(dir, cfg.prefix, cfg.format);
    const completed: DoneRecord[] = [];
    const written: string[] = [];
    let plan: Plan | undefined;
    let current: ShardOutput | undefined;
    let rowsSeen = 0;
    let batches = 0;

    const planFor = (input: Schema): Plan => {
      const schema = canonicalSchema(input);
      let tokenColumn: string | null;
      try {
        tokenColumn = tokenColumnOf(schema, cfg.tokenColumn);
      } catch (err) {
        throw new FlowError(ctx.nodeId, (err as Error).message, { field: cfg.tokenColumn });
      }
      const ids = schema.fields.find((f) => f.name === 'input_ids')?.type as { listSize?: number } | undefined;
      const seqLen = ids?.listSize !== undefined ? ids.listSize - 1 : (cfg.seqLen ?? null);
      if (cfg.seqLen !== undefined && seqLen !== cfg.seqLen)
        throw new FlowError(
          ctx.nodeId,
          `config seqLen is ${cfg.seqLen} but input_ids rows hold ${ids!.listSize} tokens (seqLen ${seqLen}); fix ` +
            `seqLen or the packing`,
          { field: 'input_ids' },
        );
      const manifest = head(describeSchema(schema), seqLen, tokenColumn);
      return { schema, configHash: manifest.configHash, manifest, countTokens: tokenCounter(schema, tokenColumn) };
    };
    const head = (schema: Manifest['schema'], seqLen: number | null, tokenColumn: string | null): Plan['manifest'] => {
      const fields = {
        format: FORMAT,
        version: VERSION,
        kind: cfg.format,
        schema,
        encoding: cfg.encoding ?? null,
        seqLen,
        tokenColumn,
        meta: cfg.meta,
        writer,
      };
      return { ...fields, configHash: sha256Hex(canonicalJson(fields)) };
    };

    /** The next shard: verified against an earlier run's if that one is complete, else written. */
    const open = async (p: Plan): Promise<ShardOutput> => {
      const index = completed.length;
      const path = join(dir, shardFile(cfg.prefix, index, cfg.format));
      const why = await whyNotDone(dir, done.get(index), p.configHash, rowsSeen);
      if (why === null) return new ShardOutput(index, rowsSeen, path, format, true);
      if (done.has(index)) ctx.log(`writing ${shardFile(cfg.prefix, index, cfg.format)} again: ${why}`);
      // the old record no longer describes what will be at this path, nor an old manifest the directory
      if (done.delete(index)) rmSync(join(dir, doneFile(cfg.prefix, index)), { force: true });
      dropManifest();
      return new ShardOutput(index, rowsSeen, path, format, false);
    };
    // a manifest on disk always describes shards that are all there and complete
    let manifestDropped = false;
    const dropManifest = () => {
      if (!manifestDropped) rmSync(join(dir, MANIFEST), { force: true });
      manifestDropped = true;
    };

    /** The shard's bytes completed and checked, then synced together with its done record: the
     * returned function renames both into place (the shard first), once both are on disk. Its syncs
     * overlap whatever the caller prepares meanwhile (the manifest, at the end of a run). */
    const complete = async (out: ShardOutput, p: Plan): Promise<() => Promise<void>> => {
      const failed = async (err: unknown): Promise<never> => {
        await out.abort();
        throw err;
      };
      const { sha256, bytes } = await out.finish().catch(failed);
      const file = shardFile(cfg.prefix, out.index, cfg.format);
      const rec: DoneRecord = {
        index: out.index,
        file,
        firstRow: out.firstRow,
        rows: out.rows,
        tokens: out.tokens,
        bytes,
        sha256,
        configHash: p.configHash,
      };
      const recordPath = join(dir, doneFile(cfg.prefix, out.index));
      if (out.verifyOnly) {
        const old = done.get(out.index)!;
        if (old.sha256 !== sha256 || old.rows !== rec.rows) {
          dropManifest();
          const removed = removeShardsFrom(dir, cfg.prefix, cfg.format, out.index);
          throw new FlowError(
            ctx.nodeId,
            `${file} was completed by an earlier run with this configuration, but this run's input gives ` +
              `different bytes for it (sha256 ${sha256.slice(0, 12)}… vs ${old.sha256.slice(0, 12)}…): the input ` +
              `changed since. ` +
              `Removed ${removed.length} file(s) from ${file} on; run again to rewrite them.`,
            { file: join(dir, file), row: out.firstRow },
          );
        }
        ctx.stats.count('shards kept');
      } else {
        written.push(join(dir, file));
        ctx.stats.count('shards written');
      }
      completed.push(rec);
      const synced = out.sync().catch(failed);
      synced.catch(() => undefined); // a failure surfaces where it is awaited (an error elsewhere may come first)
      // kept shards known from the manifest alone get their record back
      if (out.verifyOnly && existsSync(recordPath)) return () => synced;
      const record = new AtomicFile(recordPath);
      const prepared = record.write(`${JSON.stringify(rec, null, 2)}\n`).then(() => record.prepare());
      prepared.catch(() => undefined);
      return async () => {
        try {
          await Promise.all([synced, prepared]);
        } catch (err) {
          await record.abort();
          throw err;
        }
        await out.publish().catch(failed);
        await record.publish();
      };
    };

    /** The manifest, prepared while `before` (the last shard's publishing) syncs, and published after it. */
    const writeManifest = async (p: Plan | undefined, before: () => Promise<void>): Promise<string> => {
      const top = p?.manifest ?? head(null, cfg.seqLen ?? null, cfg.tokenColumn ?? null);
      const sum = (k: 'rows' | 'tokens' | 'bytes') => completed.reduce((n, s) => n + s[k], 0);
      const shards = completed.map(({ file, firstRow, rows, tokens, bytes, sha256 }) => ({
        file,
        firstRow,
        rows,
        tokens,
        bytes,
        sha256,
      }));
      const text = manifestText({ ...top, rows: sum('rows'), tokens: sum('tokens'), bytes: sum('bytes'), shards });
      const path = join(dir, MANIFEST);
      if (existsSync(path) && readFileSync(path, 'utf8') === text) {
        await before();
        return path;
      } // identical: leave it be
      const file = new AtomicFile(path);
      const prepared = file.write(text).then(() => file.prepare());
      prepared.catch(() => undefined);
      try {
        await Promise.all([before(), prepared]);
      } catch (err) {
        await file.abort();
        throw err;
      }
      return file.publish();
    };

    const where = () => ({ file: current ? current.path : dir, batch: batches, row: rowsSeen });
    const guard = async <R>(work: () => Promise<R>): Promise<R> => {
      try {
        return await work();
      } catch (err) {
        throw FlowError.wrap(ctx.nodeId, err, where());
      }
    };

    return {
      write: (batch: RecordBatch) =>
        guard(async () => {
          const p = (plan ??= planFor(batch.schema));
          const same = conformBatch(batch, p.schema);
          if (typeof same === 'string')
            throw new FlowError(
              ctx.nodeId,
              `batch ${batches} does not match the schema of the first batch: ${same}`,
              where(),
            );
          const n = same.numRows;
          const perRow = n > 0 ? batchBytes(same) / n : 0;
          for (let off = 0; off < n; ) {
            const out = (current ??= await open(p));
            let take = Math.min(n - off, shardRows - out.rows);
            if (Number.isFinite(shardBytes) && perRow > 0)
              take = Math.min(take, Math.max(1, Math.ceil((shardBytes - out.estimatedBytes) / perRow)));
            const part = take === n ? same : same.slice(off, off + take);
            await out.write(part, p.countTokens(part), take * perRow);
            off += take;
            rowsSeen += take;
            if (out.rows >= shardRows || out.estimatedBytes >= shardBytes) {
              current = undefined;
              await (await complete(out, p))();
            }
          }
          batches++;
        }),
      close: (outcome) =>
        guard(async () => {
          if (outcome === 'cancelled') {
            await current?.abort();
            current = undefined;
            return written;
          }
          let publishLast = async (): Promise<void> => undefined;
          if (current) {
            const out = current;
            current = undefined;
            publishLast = await complete(out, plan!);
          }
          if (!plan) ctx.log(`no rows: ${MANIFEST} records an empty dataset`);
          if ([...done.keys()].some((i) => i >= completed.length)) dropManifest(); // an earlier run had more shards
          const stale = removeShardsFrom(dir, cfg.prefix, cfg.format, completed.length);
          if (stale.length > 0)
            ctx.log(
              `removed ${stale.length} file(s) beyond the last shard, left by an earlier run: ${stale.slice(0, 4).join(', ')}${stale.length > 4 ? ', ...' : ''}`,
            );
          const manifest = await writeManifest(plan, publishLast);
          const kept = completed.length - written.length;
          ctx.log(
            `${completed.length} shard(s), ${rowsSeen} rows: ${written.length} written${kept > 0 ? `, ${kept} kept from an earlier run (verified)` : ''}`,
          );
          return [...completed.map((s) => join(dir, s.file)), manifest];
        }),
      abort: async () => {
        await current?.abort();
        current = undefined;
      },
    };
  },
});
