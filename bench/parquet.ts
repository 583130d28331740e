// Parquet on one core, the same real rows through two writers: parquet-wasm through flowlm's
// ParquetWriter (src/runtime/parquet-writer.ts: what io/write-parquet and shard/write-shards use)
// against parquetjs-lite (pure JavaScript, the usual Node choice), both snappy, one row group, to
// memory. Two tables from the embedded corpus (State of the Union + Moby-Dick): the documents
// (id, text, url, source) and packed training rows of 1025 cl100k token ids (input_ids). Reading
// back is measured too (parquet-wasm into Arrow; parquetjs-lite row by row). parquetjs-lite takes
// row objects: they are built beforehand, untimed, so its figure is appendRow + close alone. MB are
// the table's values (UTF-8 bytes of its strings, 4 per token id), the same for both. Rounds
// alternate the writers; figures are medians, over wall time and over the CPU time the process got
// (on a shared machine wall time measures the share of the core we got). ratio = parquet-wasm /
// parquetjs-lite.
// Args: rounds=5 lite_rounds=3
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { Writable } from 'node:stream';
import { RecordBatch, tableFromIPC } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { makeContext } from '../src/core/context.ts';
import { ParquetWriter } from '../src/runtime/parquet-writer.ts';
import { mobyDickChapters, sotuTexts } from '../operators/ingest/embedded-corpus.ts';
import { readText } from '../operators/ingest/read-text.ts';
import { packedBatch, packedOutputSchema } from '../operators/pack/packed-batch.ts';
import { specialTokenId } from '../operators/tokenize/engine/encodings.ts';
import { FlowlmEngine } from '../operators/tokenize/engine/flowlm-engine.ts';
import { IdBuffer } from '../operators/tokenize/engine/id-buffer.ts';
import { median } from './_median.ts';

// parquetjs-lite has no type declarations: the part of its API used here
type LiteRow = Record<string, unknown>;
interface LiteWriter {
  appendRow(row: LiteRow): Promise<void>;
  close(): Promise<void>;
}
interface LiteCursor {
  next(): Promise<LiteRow | null>;
}
interface LiteReader {
  getRowCount(): number;
  getCursor(): LiteCursor;
  close(): Promise<void>;
}
interface Lite {
  ParquetSchema: new (
    fields: Record<string, { type: string; compression?: string; optional?: boolean; repeated?: boolean }>,
  ) => object;
  ParquetWriter: { openStream(schema: object, out: Writable, opts?: { rowGroupSize?: number }): Promise<LiteWriter> };
  ParquetReader: { openBuffer(buf: Buffer): Promise<LiteReader> };
}
const lite = createRequire(import.meta.url)('parquetjs-lite') as Lite;

const int = (args: string[], name: string, dflt: number) => {
  const a = args.find((x) => x.startsWith(`${name}=`));
  const v = a ? Number(a.slice(name.length + 1)) : dflt;
  if (!Number.isInteger(v) || v < 1) throw new Error(`bench parquet: ${name} must be a positive integer, got ${a}`);
  return v;
};
const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;

interface Timing {
  wall: number;
  cpu: number;
}
async function timed<T>(fn: () => Promise<T>): Promise<{ t: Timing; value: T }> {
  const c0 = process.cpuUsage(),
    t0 = performance.now();
  const value = await fn();
  const c = process.cpuUsage(c0);
  return { t: { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 }, value };
}

/** One table as each writer takes it: Arrow batches, parquetjs-lite's schema and row objects. */
interface Workload {
  name: string;
  batches: RecordBatch[];
  liteSchema: object;
  rows: LiteRow[];
  mb: number;
}

async function documents(): Promise<Workload> {
  const read = readText.def.make(
    readText.def.config.parse({ paths: [sotuTexts(), mobyDickChapters()], batchRows: 64 }),
    makeContext('read'),
  );
  const batches: RecordBatch[] = [];
  for await (const b of read) batches.push(b);
  const rows = batches.flatMap((b) =>
    b.toArray().map((r) => {
      const { id, text, url, source } = r.toJSON() as { id: string; text: string; url: string | null; source: string };
      return url === null ? { id, text, source } : { id, text, url, source };
    }),
  );
  const mb =
    rows.reduce((n, r) => n + Object.values(r).reduce((k: number, v) => k + Buffer.byteLength(String(v)), 0), 0) / 1e6;
  const s = { type: 'UTF8', compression: 'SNAPPY' };
  return {
    name: 'docs',
    batches,
    rows,
    mb,
    liteSchema: new lite.ParquetSchema({ id: s, text: s, url: { ...s, optional: true }, source: s }),
  };
}

function packedRows(docs: Workload, seqLen = 1024, batchRows = 256): Workload {
  const engine = new FlowlmEngine('cl100k');
  const ids = new IdBuffer(1 << 20);
  const eos = specialTokenId('cl100k', '<|endoftext|>');
  for (const r of docs.rows) {
    engine.encode(r.text as string, ids);
    ids.push(eos);
  }
  const width = seqLen + 1;
  const all = ids.view();
  const rowCount = Math.floor(all.length / width);
  const schema = packedOutputSchema(seqLen, {});
  const batches: RecordBatch[] = [];
  for (let r = 0; r < rowCount; r += batchRows) {
    const n = Math.min(batchRows, rowCount - r);
    batches.push(packedBatch(schema, { rows: n, width, ids: all.slice(r * width, (r + n) * width) }));
  }
  const rows = Array.from({ length: rowCount }, (_, r) => ({
    input_ids: Array.from(all.subarray(r * width, (r + 1) * width)),
  }));
  return {
    name: 'tokens',
    batches,
    rows,
    mb: (rowCount * width * 4) / 1e6,
    liteSchema: new lite.ParquetSchema({ input_ids: { type: 'INT32', repeated: true, compression: 'SNAPPY' } }),
  };
}

const ROW_GROUP = 1 << 20; // more rows than either table has: one row group each

async function wasmWrite(w: Workload): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const writer = new ParquetWriter(
    {
      write: async (d) => {
        chunks.push(d);
      },
    },
    { compression: 'snappy', rowGroupRows: ROW_GROUP },
  );
  for (const b of w.batches) await writer.write(b);
  await writer.finish();
  return Buffer.concat(chunks);
}

async function liteWrite(w: Workload): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  const writer = await lite.ParquetWriter.openStream(w.liteSchema, out, { rowGroupSize: ROW_GROUP });
  for (const r of w.rows) await writer.appendRow(r);
  await writer.close();
  return Buffer.concat(chunks);
}

const wasmRead = async (bytes: Uint8Array) => tableFromIPC(pw.readParquet(bytes).intoIPCStream()).numRows;
async function liteRead(bytes: Uint8Array): Promise<number> {
  const reader = await lite.ParquetReader.openBuffer(Buffer.from(bytes));
  const cursor = reader.getCursor();
  let n = 0;
  while (await cursor.next()) n++;
  await reader.close();
  return n;
}

/** The timings of one operation on one table, and their median MB/s over wall and over CPU time. */
class Series {
  readonly times: Timing[] = [];
  constructor(readonly mb: number) {}
  add(t: Timing): void {
    this.times.push(t);
  }
  get wall(): number {
    return median(this.times.map((t) => this.mb / t.wall));
  }
  get cpu(): number {
    return median(this.times.map((t) => this.mb / t.cpu));
  }
  line(label: string): string {
    return `${label.padEnd(26)} ${this.wall.toFixed(1).padStart(7)} MB/s (CPU time: ${this.cpu.toFixed(1)} MB/s), ${this.times.length} rounds`;
  }
}

async function measure(w: Workload, rounds: number, liteRounds: number): Promise<Record<string, number>> {
  const rowsIn = w.rows.length;
  const same = (what: string, n: number) => {
    if (n !== rowsIn) throw new Error(`bench parquet: ${what} gave ${n} rows of ${w.name}, expected ${rowsIn}`);
  };
  const s = { wasmW: new Series(w.mb), liteW: new Series(w.mb), wasmR: new Series(w.mb), liteR: new Series(w.mb) };
  let wasmBytes: Uint8Array = new Uint8Array(),
    liteBytes: Uint8Array = new Uint8Array();
  for (let r = 0; r < rounds; r++) {
    const a = await timed(() => wasmWrite(w));
    s.wasmW.add(a.t);
    wasmBytes = a.value;
    const b = await timed(() => wasmRead(wasmBytes));
    same('parquet-wasm read', b.value);
    s.wasmR.add(b.t);
    if (r < liteRounds) {
      const e = await timed(() => liteWrite(w));
      s.liteW.add(e.t);
      liteBytes = e.value;
      // the same rows: parquet-wasm reads parquetjs-lite's file back
      if (r === 0) same('parquet-wasm reading the parquetjs-lite file', await wasmRead(liteBytes));
      const f = await timed(() => liteRead(liteBytes));
      same('parquetjs-lite read', f.value);
      s.liteR.add(f.t);
    }
    console.error(`  ${w.name} round ${r + 1}/${rounds} done`);
  }
  console.log(
    `${w.name}: ${rowsIn} rows, ${w.mb.toFixed(1)} MB; files: parquet-wasm ${(wasmBytes.length / 1e6).toFixed(1)} MB, parquetjs-lite ${(liteBytes.length / 1e6).toFixed(1)} MB`,
  );
  console.log(
    `  ${s.wasmW.line('parquet-wasm write')}\n  ${s.liteW.line('parquetjs-lite write')}\n  ${s.wasmR.line('parquet-wasm read')}\n  ${s.liteR.line('parquetjs-lite read')}`,
  );
  console.log(
    `  parquet-wasm / parquetjs-lite: write ${(s.wasmW.wall / s.liteW.wall).toFixed(1)}x (CPU ${(s.wasmW.cpu / s.liteW.cpu).toFixed(1)}x), read ${(s.wasmR.wall / s.liteR.wall).toFixed(1)}x`,
  );
  return {
    [`${w.name}_mb`]: r1(w.mb),
    [`${w.name}_wasm_write_mb_per_s`]: r1(s.wasmW.wall),
    [`${w.name}_lite_write_mb_per_s`]: r2(s.liteW.wall),
    [`${w.name}_write_ratio`]: r1(s.wasmW.wall / s.liteW.wall),
    [`${w.name}_write_ratio_cpu`]: r1(s.wasmW.cpu / s.liteW.cpu),
    [`${w.name}_wasm_read_mb_per_s`]: r1(s.wasmR.wall),
    [`${w.name}_lite_read_mb_per_s`]: r2(s.liteR.wall),
    [`${w.name}_read_ratio`]: r1(s.wasmR.wall / s.liteR.wall),
    [`${w.name}_wasm_file_ratio`]: r2(wasmBytes.length / (w.mb * 1e6)),
    [`${w.name}_lite_file_ratio`]: r2(liteBytes.length / (w.mb * 1e6)),
  };
}

export default async function parquetBench(args: string[]): Promise<Record<string, unknown>> {
  const rounds = int(args, 'rounds', 5),
    liteRounds = Math.min(rounds, int(args, 'lite_rounds', 3));
  const load0 = loadavg()[0]!;
  const docs = await documents();
  const tokens = packedRows(docs);
  console.log(
    `parquet bench: ${docs.rows.length} documents (${docs.mb.toFixed(1)} MB), ${tokens.rows.length} packed rows of 1025 ids (${tokens.mb.toFixed(1)} MB); load ${load0.toFixed(1)}`,
  );
  const d = await measure(docs, rounds, liteRounds);
  const t = await measure(tokens, rounds, liteRounds);
  return { ...d, ...t, load_average: r2((load0 + loadavg()[0]!) / 2) };
}
