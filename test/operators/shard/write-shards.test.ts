// shard/write-shards on real packed text (State of the Union, gpt2 tokens): the manifest checked against
// the files themselves, atomic and ordered writes, deterministic bytes, re-runs that keep verified
// shards, rotation by bytes, token counts with padding, and Parquet shards read by hyparquet.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC, type RecordBatch } from 'apache-arrow';
import { parquetReadObjects } from 'hyparquet';
import { from, lastValueFrom, Subject } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeShards, type WriteShardsConfig } from '../../../operators/shard/write-shards.ts';
import { Manifest, MANIFEST } from '../../../operators/shard/manifest.ts';
import { FlowError } from '../../../src/core/errors.ts';
import { OperatorStats } from '../../../src/core/stats.ts';
import { batchFromColumns, docSchema, tokensSchema } from '../../../src/schema/index.ts';
import { mobyParagraphs } from '../../fixtures/moby.ts';
import { packDocs, packedBatch, packedTestSchema, sotuDocs, tokenStream } from './packed-corpus.ts';

const root = mkdtempSync(join(tmpdir(), 'flowlm-write-shards-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `out-${n++}`);

const SEQ = 96;
const docs = sotuDocs(8);
let input: RecordBatch[] = [];
let rest = 0;
beforeAll(() => {
  input = [
    ...packDocs(docs, SEQ, 16, (r) => {
      rest = r;
    }),
  ];
});

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const manifestOf = (dir: string) => Manifest.parse(JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')));
const files = (dir: string) => readdirSync(dir).sort();
const snapshot = (dir: string) => Object.fromEntries(files(dir).map((f) => [f, sha(join(dir, f))]));

async function write(dir: string, batches: RecordBatch[], config: Partial<WriteShardsConfig> = {}) {
  const stats = new OperatorStats('write');
  const log: string[] = [];
  const result = await lastValueFrom(
    from(batches).pipe(
      writeShards(
        { dir, shardRows: 40, encoding: 'gpt2', meta: { corpus: 'sotu' }, ...config },
        { stats, log: (m) => log.push(m) },
      ),
    ),
  );
  return { result, counters: stats.snapshot().counters ?? {}, log };
}

describe('shard/write-shards', () => {
  it('writes shards and a manifest that agree with the files: sha256, rows, tokens, first rows, every token in order', async () => {
    const dir = fresh();
    const { result } = await write(dir, input);
    const m = manifestOf(dir);
    const totalRows = input.reduce((s, b) => s + b.numRows, 0);
    expect(m).toMatchObject({
      format: 'flowlm-shards',
      version: 1,
      kind: 'ipc',
      encoding: 'gpt2',
      seqLen: SEQ,
      tokenColumn: 'input_ids',
      meta: { corpus: 'sotu' },
      rows: totalRows,
    });
    expect(m.schema!.fields.map((f) => `${f.name}: ${f.type}`)).toEqual([
      `input_ids: FixedSizeList<Int32>[${SEQ + 1}]`,
      'doc_starts: List<Int32>',
    ]);
    expect(m.shards.length).toBe(Math.ceil(totalRows / 40));
    expect(m.configHash).toMatch(/^[0-9a-f]{64}$/);

    const ids: number[] = [];
    let firstRow = 0;
    for (const s of m.shards) {
      const bytes = readFileSync(join(dir, s.file));
      expect(s.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(s.bytes).toBe(bytes.length);
      const table = tableFromIPC(bytes);
      expect(s.rows).toBe(table.numRows);
      expect(s.firstRow).toBe(firstRow);
      expect(s.tokens).toBe(table.numRows * (SEQ + 1));
      firstRow += s.rows;
      for (const row of table.getChild('input_ids')!) ids.push(...(row as { toArray(): Int32Array }).toArray());
    }
    expect(m.tokens).toBe(m.shards.reduce((t, s) => t + s.tokens, 0));
    expect(m.bytes).toBe(m.shards.reduce((t, s) => t + s.bytes, 0));
    // the shards hold the token stream itself, less the tail that did not fill a row
    const stream = tokenStream(docs);
    expect(ids.length).toBe(stream.length - rest);
    expect(ids).toEqual(stream.slice(0, ids.length));

    expect(files(dir)).toEqual(
      [MANIFEST, ...m.shards.flatMap((s) => [s.file.replace('.arrow', '.done.json'), s.file])].sort(),
    );
    expect(result.files).toEqual([...m.shards.map((s) => join(dir, s.file)), join(dir, MANIFEST)]);
  });

  it('gives byte-identical shards and manifest for the same input; another config gives another hash', async () => {
    const a = fresh(),
      b = fresh(),
      c = fresh();
    await write(a, input);
    await write(b, input);
    expect(snapshot(b)).toEqual(snapshot(a));
    expect(readFileSync(join(a, MANIFEST), 'utf8')).not.toMatch(/"(time|date|created)/i);
    await write(c, input, { meta: { corpus: 'sotu', note: 'other' } });
    expect(manifestOf(c).configHash).not.toBe(manifestOf(a).configHash);
    expect(manifestOf(c).shards.map((s) => s.sha256)).toEqual(manifestOf(a).shards.map((s) => s.sha256));
  });

  it('writes the manifest last and atomically; an aborted run leaves its complete shards and no temporary file', async () => {
    const dir = fresh();
    const subject = new Subject<RecordBatch>();
    const done = lastValueFrom(subject.pipe(writeShards({ dir, shardRows: 40 }))).catch((e: unknown) => e);
    for (const b of input.slice(0, 6)) subject.next(b); // 96 rows: two complete shards, a third begun
    const inProgress = () => files(dir).some((f) => f.startsWith('.flowlm-tmp-') && f.endsWith('shard-00002.arrow'));
    for (let i = 0; i < 500 && !inProgress(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(inProgress()).toBe(true); // the third shard, under its temporary name
    expect(files(dir).filter((f) => !f.startsWith('.'))).toEqual([
      'shard-00000.arrow',
      'shard-00000.done.json',
      'shard-00001.arrow',
      'shard-00001.done.json',
    ]);
    subject.error(new Error('upstream failed'));
    expect(String(await done)).toMatch(/upstream failed/);
    expect(files(dir)).toEqual([
      'shard-00000.arrow',
      'shard-00000.done.json',
      'shard-00001.arrow',
      'shard-00001.done.json',
    ]);

    await write(dir, input, { shardRows: 40 });
    const m = manifestOf(dir);
    const mtime = (f: string) => statSync(join(dir, f), { bigint: true }).mtimeNs;
    for (const f of files(dir)) expect(mtime(MANIFEST) >= mtime(f)).toBe(true);
    expect(files(dir).filter((f) => f.startsWith('.'))).toEqual([]);
    expect(m.shards.length).toBeGreaterThan(2);

    // a run that rewrites shards takes the old manifest away before it changes the first one
    const again = new Subject<RecordBatch>();
    const second = lastValueFrom(again.pipe(writeShards({ dir, shardRows: 30 }, { log: () => undefined }))).catch(
      (e: unknown) => e,
    );
    again.next(input[0]!);
    again.next(input[1]!);
    for (let i = 0; i < 200 && existsSync(join(dir, MANIFEST)); i++) await new Promise((r) => setTimeout(r, 10));
    expect(existsSync(join(dir, MANIFEST))).toBe(false);
    again.error(new Error('stop'));
    await second;
  });

  it('a re-run keeps complete verified shards untouched and rewrites only what is missing or damaged', async () => {
    const dir = fresh();
    await write(dir, input);
    const before = snapshot(dir);
    const m = manifestOf(dir);
    const last = m.shards.at(-1)!.file;
    const ino = (f: string) => statSync(join(dir, f), { bigint: true });
    const stat0 = Object.fromEntries(m.shards.map((s) => [s.file, ino(s.file)]));
    rmSync(join(dir, last));
    rmSync(join(dir, MANIFEST));

    const rerun = await write(dir, input);
    expect(snapshot(dir)).toEqual(before);
    expect(rerun.counters).toEqual({ 'shards kept': m.shards.length - 1, 'shards written': 1 });
    for (const s of m.shards.slice(0, -1)) {
      expect(ino(s.file).ino).toBe(stat0[s.file]!.ino); // not replaced by a rename
      expect(ino(s.file).mtimeNs).toBe(stat0[s.file]!.mtimeNs);
    }

    // a damaged shard (same size, one byte changed) does not verify and is rewritten
    const victim = join(dir, m.shards[1]!.file);
    const bytes = readFileSync(victim);
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff;
    writeFileSync(victim, bytes);
    const repaired = await write(dir, input);
    expect(repaired.counters).toEqual({ 'shards kept': m.shards.length - 1, 'shards written': 1 });
    expect(snapshot(dir)).toEqual(before);

    // without the records, the manifest vouches for its shards (and the records come back)
    for (const f of files(dir).filter((g) => g.endsWith('.done.json'))) rmSync(join(dir, f));
    const fromManifest = await write(dir, input);
    expect(fromManifest.counters).toEqual({ 'shards kept': m.shards.length });
    expect(snapshot(dir)).toEqual(before);

    // another configuration shares no shard with this one
    const other = await write(dir, input, { shardRows: 50 });
    expect(other.counters).toEqual({ 'shards written': Math.ceil(manifestOf(dir).rows / 50) });
    expect(files(dir).filter((f) => f.endsWith('.arrow')).length).toBe(manifestOf(dir).shards.length); // old extra shards removed
  });

  it('a re-run whose input changed under the same configuration stops, names the shard, and the next run rewrites it', async () => {
    const dir = fresh();
    await write(dir, input);
    const changed = [...packDocs(sotuDocs(8, 1), SEQ, 16)];
    const err = await write(dir, changed).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FlowError);
    expect((err as FlowError).message).toMatch(
      /shard-00000\.arrow was completed by an earlier run .* the input changed/,
    );
    expect(existsSync(join(dir, MANIFEST))).toBe(false);
    await write(dir, changed);
    const want = fresh();
    await write(want, changed);
    expect(snapshot(dir)).toEqual(snapshot(want));
  });

  it('rotates at shardBytes (estimated from the input) and counts tokens under an attention mask', async () => {
    const dir = fresh();
    const rowBytes = (SEQ + 1) * 4;
    await write(dir, input, { shardRows: undefined, shardBytes: 30 * rowBytes });
    const m = manifestOf(dir);
    for (const s of m.shards.slice(0, -1)) {
      expect(s.rows).toBeGreaterThanOrEqual(25); // doc_starts adds a little per row
      expect(s.rows).toBeLessThanOrEqual(30);
    }
    expect(m.rows).toBe(input.reduce((t, b) => t + b.numRows, 0));

    // padded rows: tokens are the mask's ones
    const schema = packedTestSchema(SEQ, true);
    const ids = input[0]!.getChild('input_ids')!.data[0]!.children[0]!.values as Int32Array;
    const rows = 4;
    const mask = new Uint8Array(rows * (SEQ + 1)).fill(1);
    mask.fill(0, mask.length - 30); // the last row padded after its first SEQ+1-30 tokens
    const padded = packedBatch(schema, ids.slice(0, rows * (SEQ + 1)), [[0], [], [], []], mask);
    const pdir = fresh();
    await write(pdir, [padded], { shardRows: 3 });
    expect(manifestOf(pdir).shards.map((s) => s.tokens)).toEqual([3 * (SEQ + 1), SEQ + 1 - 30]);
  });

  it('checks seqLen against the rows and records an empty input as an empty dataset', async () => {
    const err = await write(fresh(), input, { seqLen: 128 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String(err)).toMatch(/config seqLen is 128 but input_ids rows hold 97 tokens/);
    const dir = fresh();
    await write(dir, []);
    expect(manifestOf(dir)).toMatchObject({ rows: 0, shards: [], schema: null });
  });

  it('writes document and token tables as Parquet that hyparquet reads, identically across dictionary ids', async () => {
    const paragraphs = mobyParagraphs(1).concat(mobyParagraphs(2), mobyParagraphs(3));
    const docRows = paragraphs.map((text, i) => ({
      id: `p${i}`,
      text,
      url: i % 4 === 0 ? null : `https://example.org/moby/${i}`,
      source: `ch${1 + (i % 3)}`,
    }));
    // each call of docSchema() gives the source dictionary a new process-wide id
    const batches = () =>
      [0, 20, 40].map((at) => {
        const part = docRows.slice(at, at + 20);
        return batchFromColumns(docSchema(), {
          id: part.map((d) => d.id),
          text: part.map((d) => d.text),
          url: part.map((d) => d.url),
          source: part.map((d) => d.source),
        });
      });
    const a = fresh(),
      b = fresh();
    await write(a, batches(), { format: 'parquet', shardRows: 25, encoding: undefined });
    await write(b, batches(), { format: 'parquet', shardRows: 25, encoding: undefined });
    expect(snapshot(b)).toEqual(snapshot(a));
    const m = manifestOf(a);
    expect(m).toMatchObject({ kind: 'parquet', tokenColumn: null, tokens: 0, rows: Math.min(60, docRows.length) });
    const read = [];
    for (const s of m.shards) {
      expect(sha(join(a, s.file))).toBe(s.sha256);
      const rows = await parquetReadObjects({ file: new Uint8Array(readFileSync(join(a, s.file))).buffer });
      expect(rows.length).toBe(s.rows);
      read.push(...rows);
    }
    expect(read).toEqual(docRows.slice(0, 60));

    // a token table: tokens are the list lengths
    const tdir = fresh();
    const enc = tokenStream(['Call me Ishmael.', 'Some years ago, never mind how long precisely.']);
    const split = enc.indexOf(50256) + 1;
    const tokens = batchFromColumns(tokensSchema(), {
      id: ['a', 'b'],
      url: [null, null],
      source: ['moby', 'moby'],
      tokens: [enc.slice(0, split), enc.slice(split)],
    });
    await write(tdir, [tokens], { format: 'parquet' });
    expect(manifestOf(tdir)).toMatchObject({ tokenColumn: 'tokens', tokens: enc.length, rows: 2 });
    const back = await parquetReadObjects({
      file: new Uint8Array(readFileSync(join(tdir, 'shard-00000.parquet'))).buffer,
    });
    expect(back.map((r) => (r as { tokens: number[] }).tokens.map(Number))).toEqual([
      enc.slice(0, split),
      enc.slice(split),
    ]);
  });
});
