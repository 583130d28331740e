// The streaming dataset over real packed shards (State of the Union, gpt2): a global order fixed by
// (seed, epoch) alone, the same union over ranks at every world size, exact resume from a cursor saved
// at a random batch (also across world sizes and epochs), checksums checked before use.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC, type RecordBatch } from 'apache-arrow';
import { lastValueFrom, from, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchCursor } from '../../../operators/shard/cursor.ts';
import { ShardDataset, type DatasetOptions } from '../../../operators/shard/dataset.ts';
import { MANIFEST, Manifest } from '../../../operators/shard/manifest.ts';
import { readShards } from '../../../operators/shard/read-shards.ts';
import { writeShards } from '../../../operators/shard/write-shards.ts';
import { FlowError } from '../../../src/core/errors.ts';
import { runPipeline } from '../../../src/runtime/run.ts';
import { formatSchema } from '../../../src/schema/compat.ts';
import { batchFromColumns, docSchema } from '../../../src/schema/index.ts';
import { mobyParagraphs } from '../../fixtures/moby.ts';
import { packDocs, sotuDocs } from './packed-corpus.ts';

const root = mkdtempSync(join(tmpdir(), 'flowlm-read-shards-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const dir = join(root, 'shards');
const SEQ = 64;
/** the rows of every shard in manifest order, as input_ids arrays: row id -> tokens */
let rows: Int32Array[] = [];
let N = 0;

beforeAll(async () => {
  // 23 rows per shard: shards and global steps do not line up
  await lastValueFrom(
    from([...packDocs(sotuDocs(6), SEQ, 16)]).pipe(
      writeShards({ dir, shardRows: 23, encoding: 'gpt2' }, { log: () => undefined }),
    ),
  );
  const m = Manifest.parse(JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')));
  rows = m.shards.flatMap((s) =>
    [...tableFromIPC(readFileSync(join(dir, s.file))).getChild('input_ids')!].map((r) =>
      (r as { toArray(): Int32Array }).toArray().slice(),
    ),
  );
  N = m.rows;
});

const flatIds = (b: RecordBatch) => b.getChild('input_ids')!.data[0]!.children[0]!.values as Int32Array;
const open = (o: Partial<DatasetOptions> = {}, at = dir) => new ShardDataset(at, { batchRows: 8, seed: 7, ...o });

/** Every batch of one rank from `cursor` on (or `limit` batches), with the row ids and the cursors. */
async function take(ds: ShardDataset, limit = Infinity, cursor?: ReturnType<ShardDataset['cursor']>) {
  const out: { samples: number[]; batch: RecordBatch; cursor: ReturnType<ShardDataset['cursor']> }[] = [];
  if (limit === 0) {
    if (cursor) ds.seek(cursor);
    return out;
  }
  for await (const b of ds.iterate(cursor)) {
    out.push(b);
    if (out.length >= limit) break;
  }
  return out;
}

/** The global sequence all ranks of a world size read together: rank r's j-th row of step k sits
 * at position k * W * B + r + j * W. Also checks every emitted row is the row its id names. */
async function union(
  worldSize: number,
  batchRows: number,
  o: Partial<DatasetOptions> = {},
  cursor?: ReturnType<ShardDataset['cursor']>,
  steps = Infinity,
) {
  const seq: number[] = [];
  const ranks = await Promise.all(
    Array.from({ length: worldSize }, (_, rank) => take(open({ ...o, rank, worldSize, batchRows }), steps, cursor)),
  );
  for (let k = 0; k < Math.max(...ranks.map((r) => r.length)); k++) {
    const step: number[] = [];
    ranks.forEach((batches, rank) => {
      const b = batches[k];
      if (!b) return;
      const ids = b.batch.getChild('input_ids')!;
      b.samples.forEach((id, j) => {
        expect((ids.get(j) as { toArray(): Int32Array }).toArray()).toEqual(rows[id]);
        step[rank + j * worldSize] = id;
      });
    });
    expect(Object.keys(step).length, `no gap in step ${k}`).toBe(step.length);
    seq.push(...step);
  }
  const cursors = ranks.map((r) => r.at(-1)?.cursor).filter((c) => c !== undefined);
  return { seq, cursors };
}

describe('shard/read-shards: the streaming dataset', () => {
  it('each epoch is a permutation of every sample, fixed by (seed, epoch) and nothing else', async () => {
    const all = (await take(open({ epochs: 2 }))).flatMap((b) => b.samples);
    const e0 = all.slice(0, N),
      e1 = all.slice(N);
    const ids = Array.from({ length: N }, (_, i) => i);
    expect([...e0].sort((a, b) => a - b)).toEqual(ids);
    expect([...e1].sort((a, b) => a - b)).toEqual(ids);
    expect(e1).not.toEqual(e0);
    // the same order from a fresh dataset, from sampleAt, and at another batch size
    expect((await take(open({ epochs: 2, batchRows: 5 }))).flatMap((b) => b.samples)).toEqual(all);
    expect(Array.from({ length: N }, (_, i) => open().sampleAt(1, i))).toEqual(e1);
    // read shard by shard: each shard loaded once per epoch (one fewer when epoch 1 starts with the
    // shard epoch 0 ended on), never more than two in memory
    const ds = open({ epochs: 2 });
    await take(ds);
    expect(ds.stats.loads).toBeGreaterThanOrEqual(2 * ds.manifest.shards.length - 1);
    expect(ds.stats.loads).toBeLessThanOrEqual(2 * ds.manifest.shards.length);
    expect(ds.stats.peakHeld).toBe(2);
    // another seed gives another order; no shuffle gives manifest order
    expect((await take(open({ seed: 8 }))).flatMap((b) => b.samples)).not.toEqual(e0);
    expect((await take(open({ shuffle: false }))).flatMap((b) => b.samples)).toEqual(ids);
    // and it is well mixed: neighbours in the order are rarely neighbours in the shards
    const adjacent = e0.slice(1).filter((v, i) => Math.abs(v - e0[i]!) === 1).length;
    expect(adjacent).toBeLessThan(N / 10);
  });

  it('the union over ranks is the same sequence at every world size', async () => {
    const one = await union(1, 8, { epochs: 2 });
    expect(one.seq.length).toBe(2 * N);
    for (const [w, batchRows] of [
      [2, 8],
      [3, 5],
      [4, 4],
    ] as const) {
      const u = await union(w, batchRows, { epochs: 2 });
      expect(u.seq, `worldSize ${w}, batchRows ${batchRows}`).toEqual(one.seq);
      // every rank's cursor after its last batch is the end of the stream
      for (const c of u.cursors) expect(c).toMatchObject({ epoch: 2, index: 0 });
    }
  });

  it('resumes from a cursor saved at a random batch: worldSize 2 -> 1, 1 -> 2, and the same world size batch for batch', async () => {
    const o = { epochs: 2 };
    const full = (await union(1, 8, o)).seq;
    const stepsAt = (w: number) => Math.ceil((2 * N) / (w * 8));
    for (const [from_, to] of [
      [2, 1],
      [1, 2],
      [2, 2],
      [3, 2],
    ] as const) {
      const k = 1 + Math.floor(Math.random() * (stepsAt(from_) - 1)); // stop after k steps, 1 <= k < all
      const first = await union(from_, 8, o, undefined, k);
      expect(new Set(first.cursors.map((c) => JSON.stringify(c))).size, 'all ranks agree on the cursor').toBe(1);
      const saved = JSON.parse(JSON.stringify(first.cursors[0])) as ReturnType<ShardDataset['cursor']>;
      expect(saved.epoch * N + saved.index).toBe(k * from_ * 8);
      const rest = await union(to, 8, o, saved);
      const seen = [...first.seq, ...rest.seq];
      expect(seen, `${from_} -> ${to} after ${k} steps`).toEqual(full);
      expect(new Set(seen.slice(0, N)).size).toBe(N); // none repeated within an epoch, none missing
    }
    // same world size: the resumed run's batches are the uninterrupted run's, batch for batch
    const ds = open({ rank: 1, worldSize: 2, epochs: 2 });
    const whole = await take(ds);
    const k = 1 + Math.floor(Math.random() * (whole.length - 1));
    const resumed = await take(open({ rank: 1, worldSize: 2, epochs: 2 }), Infinity, whole[k - 1]!.cursor);
    expect(resumed.map((b) => b.samples)).toEqual(whole.slice(k).map((b) => b.samples));
  });

  it('refuses a cursor of another seed, shuffle or dataset, and a shard whose checksum does not match', async () => {
    const c = open().cursor();
    expect(() => open({ seed: 1 }).seek(c)).toThrow(/saved with seed 7, this stream has seed 1/);
    expect(() => open({ shuffle: false }).seek(c)).toThrow(/saved with shuffle true/);
    expect(() => open().seek({ ...c, dataset: 'other' })).toThrow(/cursor is for dataset other/);
    expect(() => open({ rank: 2, worldSize: 2 })).toThrow(/rank must be an integer in \[0, worldSize\)/);

    const bad = join(root, 'damaged');
    cpSync(dir, bad, { recursive: true });
    const m = Manifest.parse(JSON.parse(readFileSync(join(bad, MANIFEST), 'utf8')));
    const victim = m.shards[2]!.file;
    const bytes = readFileSync(join(bad, victim));
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0x01;
    writeFileSync(join(bad, victim), bytes);
    const err = await take(open({ shuffle: false }, bad)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FlowError);
    expect((err as FlowError).message).toMatch(
      new RegExp(
        `shard ${victim} failed its checksum: sha256 [0-9a-f]{64} .* the manifest says ${m.shards[2]!.sha256}`,
      ),
    );
    expect((err as FlowError).location.file).toBe(join(bad, victim));
    // shards before it were read: the error comes when the damaged one is about to be used
    const before = await take(open({ shuffle: false, batchRows: 1 }, bad), 2 * 23);
    expect(before.length).toBe(2 * 23);
  });

  it('as a source: batches carry their cursor, and a cursor given in the config resumes there', async () => {
    const cfg = { dir, batchRows: 8, seed: 7, rank: 0, worldSize: 2 };
    const all = await lastValueFrom(readShards(cfg).pipe(toArray()));
    const direct = await take(open({ rank: 0, worldSize: 2 }));
    expect(all.map((b) => b.numRows)).toEqual(direct.map((b) => b.batch.numRows));
    expect(all.map((b) => batchCursor(b))).toEqual(direct.map((b) => b.cursor));
    expect(formatSchema(readShards.def.output(readShards.def.config.parse(cfg)))).toBe(
      `{ input_ids: FixedSizeList<Int32>[${SEQ + 1}], doc_starts: List<Int32>? }`,
    );
    const k = 3;
    const rest = await lastValueFrom(readShards({ ...cfg, cursor: batchCursor(all[k - 1]!) }).pipe(toArray()));
    expect(rest.length).toBe(all.length - k);
    rest.forEach((b, i) => expect(flatIds(b)).toEqual(flatIds(all[k + i]!)));
  });

  it('runs in a pipeline by id: read in manifest order and written again, the shards come out byte for byte', async () => {
    const out = join(root, 'rewritten');
    const r = await runPipeline(
      {
        name: 'reshard',
        steps: [
          { id: 'read', op: 'shard/read-shards', config: { dir, batchRows: 16, shuffle: false } },
          { id: 'write', op: 'shard/write-shards', config: { dir: out, shardRows: 23, encoding: 'gpt2' } },
        ],
      },
      { log: () => undefined },
    );
    expect(r.error).toBeUndefined();
    const a = Manifest.parse(JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')));
    const b = Manifest.parse(JSON.parse(readFileSync(join(out, MANIFEST), 'utf8')));
    expect(b).toEqual(a);
  });

  it('reads Parquet shards of a document table as well, strings and dictionaries included', async () => {
    const paragraphs = mobyParagraphs(1).concat(mobyParagraphs(2));
    const docs = paragraphs.map((text, i) => ({
      id: `p${i}`,
      text,
      url: i % 3 === 0 ? null : `https://example.org/${i}`,
      source: `ch${i % 2}`,
    }));
    const batch = batchFromColumns(docSchema(), {
      id: docs.map((d) => d.id),
      text: docs.map((d) => d.text),
      url: docs.map((d) => d.url),
      source: docs.map((d) => d.source),
    });
    const pq = join(root, 'docs');
    await lastValueFrom(
      from([batch]).pipe(writeShards({ dir: pq, format: 'parquet', shardRows: 10 }, { log: () => undefined })),
    );
    const ds = new ShardDataset(pq, { batchRows: 7, seed: 3 });
    const got = (await take(ds)).flatMap((b) => b.batch.toArray().map((r) => r.toJSON() as Record<string, unknown>));
    const order = Array.from({ length: docs.length }, (_, i) => ds.sampleAt(0, i));
    expect(got).toEqual(order.map((i) => docs[i]));
    expect(new Set(order).size).toBe(docs.length);
  });
});
