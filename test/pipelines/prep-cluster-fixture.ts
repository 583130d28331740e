// Fixtures of the clustered-prep tests (prep-cluster.test.ts): real text (State of the Union addresses,
// cut into JSON Lines passages or kept whole) with duplicates within and across files, single-process
// prep's output, and every item of a plan run out of order, repeated and corrupted before the merge.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { sotuTexts } from '../../operators/ingest/embedded-corpus.ts';
import {
  mergeItems,
  planItems,
  runDedupPartition,
  runItem,
  verifyDedupPartition,
  verifyItem,
} from '../../pipelines/prep-cluster.ts';
import { prepSpec } from '../../pipelines/prep-default.ts';
import type { ItemResult, WorkItem } from '../../src/cli/prep-cluster-contract.ts';
import type { PrepOptions } from '../../src/cli/prep-contract.ts';
import { Rng } from '../../src/runtime/rng.ts';
import { runPipeline } from '../../src/runtime/run.ts';

export const root = mkdtempSync(join(tmpdir(), 'flowlm-prep-cluster-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

export const SOTU = dirname(sotuTexts());
/** addresses 1910-1919 (~520 kB): enough for more than one reader batch (256 documents or 512 kB) */
export const addresses = () =>
  readdirSync(SOTU)
    .filter((f) => /^191\d_.*\.txt$/.test(f))
    .sort()
    .map((f) => readFileSync(join(SOTU, f), 'utf8'));

/** the same text for exact dedup's key: other case, other spacing */
export const variant = (t: string) => `  ${t.toUpperCase().replace(/ /g, '  \t')}\n`;

/** The addresses cut into passages of up to 8 sentences (they are one line each), spread in order over
 * `n` files. */
function passageFiles(n: number): string[][] {
  const paras = addresses().flatMap((a) => {
    const sentences = a.split(/(?<=[.?!]) +/);
    return Array.from({ length: Math.ceil(sentences.length / 8) }, (_, k) =>
      sentences.slice(8 * k, 8 * k + 8).join(' '),
    );
  });
  const files: string[][] = Array.from({ length: n }, () => []);
  paras.forEach((p, i) => files[Math.floor((i * n) / paras.length)]!.push(p));
  return files;
}

/** 20 JSON Lines files of passages (one per record), duplicates within and across files. */
export function jsonlCorpus(): string {
  const dir = join(root, 'jsonl');
  mkdirSync(dir, { recursive: true });
  const files = passageFiles(20);
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
export function textCorpus(): string {
  const dir = join(root, 'text');
  mkdirSync(dir, { recursive: true });
  const all = addresses();
  all.forEach((t, i) => writeFileSync(join(dir, `a${String(i).padStart(2, '0')}.txt`), t));
  writeFileSync(join(dir, 'a05b.txt'), all[2]!);
  writeFileSync(join(dir, 'a17b.txt'), variant(all[9]!));
  return join(dir, 'a*.txt');
}

/** Every file of a prep output directory (the items' work directory aside), by name. */
export function outputFiles(dir: string): Map<string, Buffer> {
  return new Map(
    readdirSync(dir)
      .filter((f) => f !== '.items')
      .sort()
      .map((f) => [f, readFileSync(join(dir, f))]),
  );
}

export async function single(
  options: PrepOptions,
): Promise<{ files: Map<string, Buffer>; duplicates: number; nearDuplicates: number }> {
  const r = await runPipeline(prepSpec(options));
  expect(r.error).toBeUndefined();
  return {
    files: outputFiles(options.out!),
    duplicates: r.nodes.dedup?.dropReasons.exact_duplicate ?? 0,
    nearDuplicates: r.nodes['near-dedup']?.dropReasons.near_duplicate ?? 0,
  };
}

/** All items (files grouped up to `itemBytes`; 1: a file each) in a shuffled order, the first three twice
 * (two of them at the same time), one corrupted between its runs, then the merge. */
export async function clustered(options: PrepOptions, seed: number, partitions?: number, itemBytes = 1) {
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
export async function dedupPartitions(items: WorkItem[], count: number): Promise<ItemResult[]> {
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

export function expectSameFiles(got: Map<string, Buffer>, want: Map<string, Buffer>) {
  expect([...got.keys()]).toEqual([...want.keys()]);
  for (const [name, bytes] of want) expect(got.get(name)!.equals(bytes), name).toBe(true);
}

/** One word of `t` replaced (the `k`-th word of 7 letters or more): a near duplicate, not an exact one. */
export const edited = (t: string, k = 0) => {
  let seen = -1;
  return t.replace(/\b[a-z]{7,}\b/g, (w) => (++seen === k ? `${w}s` : w));
};

/** 12 JSON Lines files of passages with near duplicates (a word changed) within and across files, one of
 * them also repeated exactly, and exact duplicates: `planted` near copies whose originals come earlier. */
export function nearCorpus(): { glob: string; planted: number } {
  const dir = join(root, 'near');
  mkdirSync(dir, { recursive: true });
  const files = passageFiles(12);
  const near = [edited(files[0]![2]!), edited(files[1]![4]!, 3), edited(files[5]![0]!, 1)];
  files[0]!.splice(6, 0, near[0]!); // within a file
  files[7]!.push(near[1]!, variant(files[3]![1]!)); // across files, and an exact duplicate
  files[10]!.unshift(near[2]!, near[1]!); // the second near copy again: an exact duplicate of it
  for (const [i, f] of files.entries())
    writeFileSync(
      join(dir, `n${String(i).padStart(2, '0')}.jsonl`),
      f.map((text) => JSON.stringify({ text })).join('\n') + '\n',
    );
  return { glob: join(dir, 'n*.jsonl'), planted: near.length };
}
