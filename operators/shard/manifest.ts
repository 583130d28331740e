// The shard directory's files and what they record. A directory holds `<prefix>-NNNNN.arrow` (or
// `.parquet`) shards, one `<prefix>-NNNNN.done.json` record per shard written right after the shard was
// renamed into place (how a re-run knows a shard is complete before any manifest exists), and
// `manifest.json`, written last. Nothing here holds a timestamp: the same input gives the same bytes.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Schema, Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import { z } from 'zod';
import { FlowError } from '../../src/core/errors.ts';
import { formatType } from '../../src/schema/compat.ts';

export const MANIFEST = 'manifest.json';
export const FORMAT = 'flowlm-shards' as const;
export const VERSION = 1 as const;

export type ShardKind = 'ipc' | 'parquet';
export const extensionOf = (kind: ShardKind) => (kind === 'ipc' ? 'arrow' : 'parquet');
export const shardFile = (prefix: string, index: number, kind: ShardKind) =>
  `${prefix}-${String(index).padStart(5, '0')}.${extensionOf(kind)}`;
export const doneFile = (prefix: string, index: number) => `${prefix}-${String(index).padStart(5, '0')}.done.json`;

const ShardEntry = z.object({
  file: z.string().min(1),
  /** index of the shard's first row in the writer's input (rows before it are in earlier shards) */
  firstRow: z.number().int().min(0),
  rows: z.number().int().min(0),
  tokens: z.number().int().min(0),
  bytes: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ShardEntry = z.infer<typeof ShardEntry>;

/** The per-shard completion record (`.done.json`). */
export const DoneRecord = ShardEntry.extend({ index: z.number().int().min(0), configHash: z.string() });
export type DoneRecord = z.infer<typeof DoneRecord>;

const SchemaInfo = z.object({
  fields: z.array(z.object({ name: z.string(), type: z.string(), nullable: z.boolean() })),
  /** the exact Arrow schema: base64 of an Arrow IPC stream holding only the schema message */
  arrow: z.string(),
});

export const Manifest = z.object({
  format: z.literal(FORMAT),
  version: z.literal(VERSION),
  kind: z.enum(['ipc', 'parquet']),
  schema: SchemaInfo.nullable(),
  encoding: z.string().nullable(),
  seqLen: z.number().int().nullable(),
  tokenColumn: z.string().nullable(),
  meta: z.record(z.string(), z.unknown()),
  /** the writer settings that shape the bytes (see writeShards) */
  writer: z.record(z.string(), z.unknown()),
  configHash: z.string(),
  rows: z.number().int().min(0),
  tokens: z.number().int().min(0),
  bytes: z.number().int().min(0),
  shards: z.array(ShardEntry),
});
export type Manifest = z.infer<typeof Manifest>;

/** JSON with object keys sorted at every level: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

export const sha256Hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** sha256 of a file, read in chunks (bounded memory). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function describeSchema(schema: Schema): z.infer<typeof SchemaInfo> {
  return {
    fields: schema.fields.map((f) => ({ name: f.name, type: formatType(f.type), nullable: f.nullable })),
    arrow: Buffer.from(tableToIPC(new Table(schema), 'stream')).toString('base64'),
  };
}

export const schemaFromManifest = (m: Manifest): Schema =>
  m.schema ? tableFromIPC(Buffer.from(m.schema.arrow, 'base64')).schema : new Schema([]);

/** The manifest text as written: fixed key order, two-space indent, final newline. */
export const manifestText = (m: Manifest) => `${JSON.stringify(m, null, 2)}\n`;

/** Parse `dir/manifest.json`, saying what is wrong and what to do. */
export function readManifest(dir: string, operator: string): Manifest {
  const path = join(dir, MANIFEST);
  if (!existsSync(path))
    throw new FlowError(
      operator,
      `no ${MANIFEST}: the shard directory is missing or its writer has not completed (re-run the job that writes it)`,
      { file: path },
    );
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new FlowError(
      operator,
      `${MANIFEST} is not valid JSON (${err instanceof Error ? err.message : String(err)})`,
      { file: path },
    );
  }
  const r = Manifest.safeParse(raw);
  if (!r.success) {
    const issues = r.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new FlowError(operator, `${MANIFEST} is not a flowlm shard manifest of version ${VERSION}: ${issues}`, {
      file: path,
    });
  }
  return r.data;
}
