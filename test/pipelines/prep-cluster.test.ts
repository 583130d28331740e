// Clustered prep (pipelines/prep-cluster.ts) against single-process prep (prepSpec in prep-default.ts)
// on real text: State of the Union addresses cut into passages (JSON Lines, several documents per
// file) or kept whole (plain text, one per file), with documents repeated within a file and across
// files (re-cased and re-spaced, which exact dedup's key ignores). The items run in a shuffled order,
// some twice, two at once, one after its output was corrupted; the merge must then write every file of
// the output directory with the bytes one process writes, for both shard formats and with shards small
// enough that where batches end decides where shards end.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mobyDickChapters, sotuTexts } from '../../operators/ingest/embedded-corpus.ts';
import { mergeFollowing, mergeItems, planItems, runItem, verifyItem } from '../../pipelines/prep-cluster.ts';
import { TAIL_PARTS } from '../../pipelines/prep-cluster-read.ts';
import { itemDir, itemFile } from '../../operators/shard/item-output.ts';
import { prepSpec } from '../../pipelines/prep-default.ts';
import { DEFAULT_ITEM_BYTES, type WorkItem } from '../../src/cli/prep-cluster-contract.ts';
import type { PrepOptions } from '../../src/cli/prep-contract.ts';
import { expandGlobs } from '../../src/runtime/files.ts';
import { Rng } from '../../src/runtime/rng.ts';
import { LLAMA2_JSON } from '../operators/tokenize/load/references.ts';
import {
  addresses,
  clustered,
  expectSameFiles,
  jsonlCorpus,
  outputFiles,
  root,
  single,
  textCorpus,
} from './prep-cluster-fixture.ts';

describe('prep --cluster items and merge', () => {
  // tokenizing on this thread: a worker thread's start and tokenizer load cost more than this corpus
  const base = { workers: 0, shardBytes: 120_000 } as const;

  it.each([
    ['ipc', 1],
    ['parquet', 60_000],
  ] as const)(
    'JSON Lines, %s, items of up to %i bytes: shards and manifest byte-identical to one process',
    async (format, itemBytes) => {
      const inputs = [jsonlCorpus()];
      const one = await single({ ...base, format, inputs, out: join(root, `one-jsonl-${format}`) });
      const opts = { ...base, format, inputs, out: join(root, `many-jsonl-${format}`) };
      const many = await clustered(opts, 7, undefined, itemBytes);
      expect(many.paths).toEqual(await expandGlobs(inputs)); // the reader's order
      // the item size is honoured: a file each, or files grouped (20 files of ~26 kB: 2 each)
      const sizes = many.plan.map((g) => g.reduce((n, f) => n + statSync(f).size, 0));
      if (itemBytes === 1) expect(many.plan.every((g) => g.length === 1)).toBe(true);
      else {
        expect(many.plan.length).toBeLessThan(many.paths.length / 1.5);
        expect(sizes.every((n) => n <= itemBytes)).toBe(true);
        // each group was closed because the next file did not fit (in the input's last itemBytes, a
        // quarter of that: prep-cluster-read.ts)
        const total = sizes.reduce((a, b) => a + b, 0);
        many.plan.slice(0, -1).forEach((_, i) => {
          const left = total - sizes.slice(0, i + 1).reduce((a, b) => a + b, 0);
          const limit = left <= itemBytes ? itemBytes / TAIL_PARTS : itemBytes;
          expect(sizes[i]! + statSync(many.plan[i + 1]![0]!).size).toBeGreaterThan(limit);
        });
      }
      expectSameFiles(many.files, one.files);
      const manifest = JSON.parse(one.files.get('manifest.json')!.toString()) as { shards: unknown[]; rows: number };
      expect(manifest.shards.length).toBeGreaterThan(2);
      expect(one.duplicates).toBe(4);
      expect(many.figures.duplicates).toBe(one.duplicates);
      expect(many.figures).toMatchObject({ shards: manifest.shards.length, rows: manifest.rows });
    },
  );

  it('the merge following the items as they are made (shuffled order): byte-identical; stopped or starved, it fails', async () => {
    const inputs = [jsonlCorpus()];
    const opts = { ...base, format: 'ipc' as const, inputs };
    const one = await single({ ...opts, out: join(root, 'one-follow') });
    const options: PrepOptions = { ...opts, out: join(root, 'many-follow') };
    const plan = await planItems(options, 60_000);
    const items: WorkItem[] = plan.map((files, index) => ({
      job: 'jf',
      index,
      count: plan.length,
      path: files[0]!,
      paths: files,
      options,
    }));
    const settled = join(root, 'settled-follow');
    const following = mergeFollowing(options, plan, 'jf', new AbortController().signal, settled);
    const rng = new Rng(17);
    for (const { it } of items.map((it) => ({ it, k: rng.nextU32() })).sort((a, b) => a.k - b.k)) await runItem(it);
    const figures = await following;
    expectSameFiles(outputFiles(options.out!), one.files);
    expect(figures.duplicates).toBe(one.duplicates);
    expect(figures.docs).toBe(
      (await mergeItems(options, await Promise.all(items.map(async (it) => (await verifyItem(it))!)), undefined, plan))
        .docs,
    );

    // stopped while waiting for an item: cancelled, no manifest written
    const stopped = { ...options, out: join(root, 'stopped-follow') };
    const stop = new AbortController();
    const waiting = mergeFollowing(stopped, plan, 'jf', stop.signal, settled);
    await runItem({ ...items[0]!, options: stopped });
    stop.abort();
    await expect(waiting).rejects.toThrow(/merge cancelled/);
    expect(readdirSync(stopped.out!)).not.toContain('manifest.json');
    // every item reported done (the settled file exists) but one is missing: it fails instead of waiting
    writeFileSync(settled, '');
    await expect(mergeFollowing(stopped, plan, 'jf', new AbortController().signal, settled)).rejects.toThrow(
      /item 1 is not complete \(no completion record\) though every item was reported done/,
    );
    // an item whose bytes no longer match its record (same size, one byte changed) fails the merge, named
    const damaged = { ...options, out: join(root, 'damaged-follow') };
    for (const it of items) await runItem({ ...it, options: damaged });
    const file = join(itemDir(damaged.out!, 'jf'), itemFile(1));
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 1;
    writeFileSync(file, bytes);
    await expect(mergeFollowing(damaged, plan, 'jf', new AbortController().signal, settled)).rejects.toThrow(
      /item 1 does not verify: item-000001\.arrow does not match its record/,
    );
    expect(readdirSync(damaged.out!)).not.toContain('manifest.json');
  });

  it('dedup partitioned by key hash (3 partitions, and 1): byte-identical, drops spread over items and partitions', async () => {
    const inputs = [jsonlCorpus()];
    const opts = { ...base, format: 'ipc' as const, inputs };
    const one = await single({ ...opts, out: join(root, 'one-part') });
    for (const P of [3, 1]) {
      // 3 partitions over items of several files, 1 over items of a file each
      const many = await clustered({ ...opts, out: join(root, `many-part-${P}`) }, 13, P, P === 3 ? 80_000 : 1);
      expectSameFiles(many.files, one.files);
      expect(many.figures.duplicates).toBe(one.duplicates);
      const drops = many.parts!.map((r) => readFileSync(r.file));
      expect(drops.reduce((n, d) => n + d.length / 8, 0)).toBe(one.duplicates);
      expect(many.parts!.map((r) => r.docs)).toEqual(drops.map((d) => d.length / 8));
      if (P === 3) {
        // the duplicates fall in more than one partition and more than one item
        expect(drops.filter((d) => d.length > 0).length).toBeGreaterThan(1);
        const dropItems = new Set(
          drops.flatMap((d) => [...new Uint32Array(new Uint8Array(d).buffer)].filter((_, i) => i % 2 === 0)),
        );
        expect(dropItems.size).toBeGreaterThan(1);
      }
    }
  });

  it('plain text with a tokenizer file, files grouped: byte-identical, duplicates across files dropped', async () => {
    const inputs = [textCorpus()];
    const opts = { ...base, format: 'parquet' as const, tokenizer: LLAMA2_JSON, inputs };
    const one = await single({ ...opts, out: join(root, 'one-text') });
    const many = await clustered({ ...opts, out: join(root, 'many-text') }, 3, undefined, 150_000);
    expect(many.plan.length).toBeGreaterThan(1);
    expect(many.plan.length).toBeLessThan(many.paths.length);
    expectSameFiles(many.files, one.files);
    expect(one.duplicates).toBe(2);
    expect(many.figures.duplicates).toBe(2);
    expect(JSON.parse(many.files.get('manifest.json')!.toString()).encoding).toBe(LLAMA2_JSON);
  });

  it('without dedup: every document kept, byte-identical', async () => {
    const opts = { ...base, inputs: [textCorpus()], dedup: false };
    const one = await single({ ...opts, out: join(root, 'one-nodedup') });
    const many = await clustered({ ...opts, out: join(root, 'many-nodedup') }, 5);
    expectSameFiles(many.files, one.files);
    expect(many.figures).toMatchObject({ docs: 12, duplicates: 0 });
  });

  it('a glob over files of several kinds (read-files, a reader per run of one kind): byte-identical', async () => {
    const dir = join(root, 'mixed');
    mkdirSync(dir, { recursive: true });
    const text = dirname(textCorpus()),
      jsonl = dirname(jsonlCorpus());
    // in name order: text, JSON Lines, JSON Lines, text, text, JSON Lines
    const pick: Array<[string, string]> = [
      [join(text, 'a00.txt'), 'm0.txt'],
      [join(jsonl, 'part-01.jsonl'), 'm1.jsonl'],
      [join(jsonl, 'part-11.jsonl'), 'm2.jsonl'],
      [join(text, 'a02.txt'), 'm3.txt'],
      [join(text, 'a05b.txt'), 'm4.txt'],
      [join(jsonl, 'part-02.jsonl'), 'm5.jsonl'],
    ];
    for (const [from, to] of pick) writeFileSync(join(dir, to), readFileSync(from));
    const opts = { ...base, format: 'parquet' as const, shardBytes: 40_000, inputs: [join(dir, 'm*')] };
    const one = await single({ ...opts, out: join(root, 'one-mixed') });
    for (const itemBytes of [1, 1e9]) {
      const many = await clustered({ ...opts, out: join(root, `many-mixed-${itemBytes}`) }, 11, undefined, itemBytes);
      expectSameFiles(many.files, one.files);
      expect(many.figures.duplicates).toBe(2);
      if (itemBytes === 1) continue;
      // however large the items, a group never spans a change of kind (a reader of its own)
      const names = many.plan.map((g) => g.map((f) => basename(f)));
      expect(names).toEqual([['m0.txt'], ['m1.jsonl', 'm2.jsonl'], ['m3.txt', 'm4.txt'], ['m5.jsonl']]);
      // an item's output is of its files: the same index over other files is not reused
      expect(await verifyItem(many.items[1]!)).not.toBeNull();
      expect(await verifyItem({ ...many.items[1]!, paths: many.plan[1]!.slice(0, 1) })).toBeNull();
    }
    expect(one.duplicates).toBe(2); // a05b.txt (= a02.txt), and part-02's passage 7 (re-cased in part-11)
  });

  it('inputs without documents (empty, blank), a worker thread tokenizing: byte-identical', async () => {
    const dir = join(root, 'sparse');
    mkdirSync(dir, { recursive: true });
    const first = readFileSync(join(dirname(textCorpus()), 'a00.txt'), 'utf8');
    writeFileSync(join(dir, 'b0.txt'), first.slice(0, 2000));
    writeFileSync(join(dir, 'b1.txt'), '');
    writeFileSync(join(dir, 'b2.txt'), ' \n\t\n');
    writeFileSync(join(dir, 'b3.txt'), first.slice(2000, 4000));
    for (const format of ['ipc', 'parquet'] as const) {
      // Parquet (shards sized by the batches' buffers) with the batches tokenized on a worker thread
      const opts = {
        ...base,
        workers: format === 'parquet' ? 1 : 0,
        format,
        seqLen: 64,
        inputs: [join(dir, 'b*.txt')],
      };
      const one = await single({ ...opts, out: join(root, `one-sparse-${format}`) });
      const many = await clustered({ ...opts, out: join(root, `many-sparse-${format}`) }, 1);
      expect([...many.results.entries()].sort(([a], [b]) => a - b).map(([, r]) => r.docs)).toEqual([1, 0, 0, 1]);
      expectSameFiles(many.files, one.files);
    }
  });

  it("plans the embedded corpus when given no inputs, in the reader's order", async () => {
    const files = await expandGlobs([sotuTexts(), mobyDickChapters()]);
    expect(await planItems({}, 1)).toEqual(files.map((f) => [f]));
    // by default, files grouped up to DEFAULT_ITEM_BYTES: 12 MB in a few items, every file once, in order
    const grouped = await planItems({});
    expect(grouped.flat()).toEqual(files);
    const sizes = grouped.map((g) => g.reduce((n, f) => n + statSync(f).size, 0));
    expect(sizes.every((n) => n <= DEFAULT_ITEM_BYTES)).toBe(true);
    // (the last DEFAULT_ITEM_BYTES in items a quarter of that size)
    const total = sizes.reduce((a, b) => a + b);
    expect(grouped.length).toBeLessThanOrEqual(
      Math.ceil((2 * (total - DEFAULT_ITEM_BYTES)) / DEFAULT_ITEM_BYTES) + 2 * TAIL_PARTS,
    );
    expect(sizes.slice(-TAIL_PARTS).every((n) => n <= DEFAULT_ITEM_BYTES / TAIL_PARTS)).toBe(true);
  });

  it('refuses to merge with items missing or no longer verifying, naming them', async () => {
    const inputs = [textCorpus()];
    const options: PrepOptions = { ...base, inputs, out: join(root, 'missing') };
    const plan = await planItems(options, 1);
    const items: WorkItem[] = plan.map(([path], index) => ({
      job: 'j',
      index,
      count: plan.length,
      path: path!,
      options,
    }));
    const given = items.filter((it) => it.index !== 4 && it.index !== 9);
    for (const it of given) await runItem(it);
    // as the coordinator keeps them: hashed when reported, with the file's mtime then
    const results = (await Promise.all(given.map(verifyItem))).map((r) => r!);
    expect(results.every((r) => typeof r.verifiedMtimeMs === 'number')).toBe(true);
    await expect(mergeItems(options, results, undefined, plan)).rejects.toThrow(
      /2 of 12 work item\(s\) missing.*: 4 \(not given\), 9/,
    );
    writeFileSync(results[0]!.file, 'torn');
    // the same size, one byte changed: its new mtime alone sends the merge to hash it again
    const b = readFileSync(results[1]!.file);
    b.writeUInt8(b.readUInt8(b.length - 100) ^ 1, b.length - 100);
    writeFileSync(results[1]!.file, b);
    await expect(mergeItems(options, results, undefined, plan)).rejects.toThrow(
      /: 0 \(item-000000\.arrow does not match its record.*, 1 \(item-000001\.arrow does not match its record/,
    );
    expect(readdirSync(options.out!)).toEqual(['.items']); // nothing written
    expect(basename(results[0]!.file)).toBe('item-000000.arrow');
  });

  it('refuses decontamination (one index over all documents)', async () => {
    await expect(planItems({ inputs: [textCorpus()], decontaminate: ['hellaswag'] })).rejects.toThrow(
      /cannot decontaminate/,
    );
  });
});
