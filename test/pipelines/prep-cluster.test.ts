// Clustered prep (pipelines/prep-cluster.ts) against single-process prep (prepSpec in prep-default.ts)
// on real text: State of the Union addresses cut into passages (JSON Lines, several documents per
// file) or kept whole (plain text, one per file), with documents repeated within a file and across
// files (re-cased and re-spaced, which exact dedup's key ignores). The items run in a shuffled order,
// some twice, two at once, one after its output was corrupted; the merge must then write every file of
// the output directory with the bytes one process writes, for both shard formats and with shards small
// enough that where batches end decides where shards end.
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mobyDickChapters, sotuTexts } from '../../operators/ingest/embedded-corpus.ts';
import {
  mergeFollowing,
  mergeItems,
  planItems,
  runDedupPartition,
  runItem,
  verifyDedupPartition,
  verifyItem,
} from '../../pipelines/prep-cluster.ts';
import { prepSpec } from '../../pipelines/prep-default.ts';
import { DEFAULT_ITEM_BYTES, type ItemResult, type WorkItem } from '../../src/cli/prep-cluster-contract.ts';
import type { PrepOptions } from '../../src/cli/prep-contract.ts';
import { expandGlobs } from '../../src/runtime/files.ts';
import { Rng } from '../../src/runtime/rng.ts';
import { runPipeline } from '../../src/runtime/run.ts';
import { LLAMA2_JSON } from '../operators/tokenize/load/references.ts';

const root = mkdtempSync(join(tmpdir(), 'flowlm-prep-cluster-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SOTU = dirname(sotuTexts());
/** addresses 1910-1919 (~520 kB): enough for more than one reader batch (256 documents or 512 kB) */
const addresses = () =>
  readdirSync(SOTU)
    .filter((f) => /^191\d_.*\.txt$/.test(f))
    .sort()
    .map((f) => readFileSync(join(SOTU, f), 'utf8'));

/** the same text for exact dedup's key: other case, other spacing */
const variant = (t: string) => `  ${t.toUpperCase().replace(/ /g, '  \t')}\n`;

/** 20 JSON Lines files of passages (one per record), duplicates within and across files. */
function jsonlCorpus(): string {
  const dir = join(root, 'jsonl');
  mkdirSync(dir, { recursive: true });
  // the addresses are one line each: a document is up to 8 sentences
  const paras = addresses().flatMap((a) => {
    const sentences = a.split(/(?<=[.?!]) +/);
    return Array.from({ length: Math.ceil(sentences.length / 8) }, (_, k) =>
      sentences.slice(8 * k, 8 * k + 8).join(' '),
    );
  });
  const files: string[][] = Array.from({ length: 20 }, () => []);
  paras.forEach((p, i) => files[Math.floor((i * 20) / paras.length)]!.push(p));
  files[3]!.splice(5, 0, files[3]![1]!); // within a file
  files[11]!.push(variant(files[2]![7]!), files[0]![0]!); // across files
  files[19]!.unshift(variant(files[11]![3]!));
  for (const [i, f] of files.entries())
    writeFileSync(
      join(dir, `part-${String(i).padStart(2, '0')}.jsonl`),
      f.map((text) => JSON.stringify({ text })).join('\n') + '\n',
      { flag: 'w' },
    );
  return join(dir, 'part-*.jsonl');
}

/** 10 whole addresses as text files, two of them again (one re-cased) under other names. */
function textCorpus(): string {
  const dir = join(root, 'text');
  mkdirSync(dir, { recursive: true });
  const all = addresses();
  all.forEach((t, i) => writeFileSync(join(dir, `a${String(i).padStart(2, '0')}.txt`), t));
  writeFileSync(join(dir, 'a05b.txt'), all[2]!);
  writeFileSync(join(dir, 'a17b.txt'), variant(all[9]!));
  return join(dir, 'a*.txt');
}

/** Every file of a prep output directory (the items' work directory aside), by name. */
function outputFiles(dir: string): Map<string, Buffer> {
  return new Map(
    readdirSync(dir)
      .filter((f) => f !== '.items')
      .sort()
      .map((f) => [f, readFileSync(join(dir, f))]),
  );
}

async function single(options: PrepOptions): Promise<{ files: Map<string, Buffer>; duplicates: number }> {
  const r = await runPipeline(prepSpec(options));
  expect(r.error).toBeUndefined();
  return { files: outputFiles(options.out!), duplicates: r.nodes.dedup?.dropReasons.exact_duplicate ?? 0 };
}

/** All items (files grouped up to `itemBytes`; 1: a file each) in a shuffled order, the first three twice
 * (two of them at the same time), one corrupted between its runs, then the merge. */
async function clustered(options: PrepOptions, seed: number, partitions?: number, itemBytes = 1) {
  const plan = await planItems(options, itemBytes);
  const paths = plan.flat();
  const items: WorkItem[] = plan.map((files, index) => ({
    job: 'j1',
    index,
    count: plan.length,
    path: files[0]!,
    paths: files,
    options,
  }));
  const rng = new Rng(seed);
  const order = items.map((it) => ({ it, k: rng.nextU32() })).sort((a, b) => a.k - b.k);
  const results = new Map<number, ItemResult>();
  await Promise.all([runItem(order[0]!.it), runItem(order[0]!.it)]);
  for (const { it } of order) results.set(it.index, await runItem(it));
  const hit = order[1]!.it;
  truncateSync(results.get(hit.index)!.file, 100);
  expect(await verifyItem(hit)).toBeNull();
  results.set(hit.index, await runItem(hit));
  results.set(order[2]!.it.index, await runItem(order[2]!.it)); // complete: reused
  const parts = partitions ? await dedupPartitions(items, partitions) : undefined;
  const figures = await mergeItems(options, [...results.values()], parts, plan);
  return { plan, paths, items, results, figures, parts, files: outputFiles(options.out!) };
}

/** Every dedup partition, the last first and run twice at once, partition 0 corrupted and run again:
 * the files of a repeated or concurrent run are the same bytes. */
async function dedupPartitions(items: WorkItem[], count: number): Promise<ItemResult[]> {
  const part = (index: number): WorkItem => ({
    ...items[0]!,
    kind: 'dedup',
    items: items.length,
    index,
    count,
    path: `dedup ${index}/${count}`,
  });
  const [a, b] = await Promise.all([runDedupPartition(part(count - 1)), runDedupPartition(part(count - 1))]);
  expect(b).toEqual(a);
  const out: ItemResult[] = [];
  for (let p = 0; p < count; p++) out.push(await runDedupPartition(part(p)));
  const before = readFileSync(out[0]!.file);
  writeFileSync(out[0]!.file, Buffer.concat([before, Buffer.alloc(8)]));
  expect(await verifyDedupPartition(part(0))).toBeNull();
  expect(await runDedupPartition(part(0))).toEqual(out[0]);
  expect(readFileSync(out[0]!.file).equals(before)).toBe(true);
  return out;
}

function expectSameFiles(got: Map<string, Buffer>, want: Map<string, Buffer>) {
  expect([...got.keys()]).toEqual([...want.keys()]);
  for (const [name, bytes] of want) expect(got.get(name)!.equals(bytes), name).toBe(true);
}

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
        // each group was closed because the next file did not fit
        many.plan
          .slice(0, -1)
          .forEach((_, i) => expect(sizes[i]! + statSync(many.plan[i + 1]![0]!).size).toBeGreaterThan(itemBytes));
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
    expect(grouped.length).toBeLessThanOrEqual(Math.ceil((2 * sizes.reduce((a, b) => a + b)) / DEFAULT_ITEM_BYTES));
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
