// Near-dedup (prep --near-dup) in a clustered prep: the items compute each document's MinHash signature,
// the merge runs them through one LSH index in order after exact dedup, so the shards and manifest are
// the bytes single-process prep writes (signature on the pool, then dedup/minhash/filter). Real text:
// State of the Union passages with planted near copies (a word changed) within and across files.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeItems } from '../../pipelines/prep-cluster.ts';
import { clustered, expectSameFiles, nearCorpus, root, single } from './prep-cluster-fixture.ts';

describe('prep --cluster with near-dedup', () => {
  const base = { workers: 0, shardBytes: 120_000 } as const;

  it('drops the planted near copies as one process does: byte-identical, over items and with dedup partitions', async () => {
    const { glob, planted } = nearCorpus();
    const opts = { ...base, format: 'ipc' as const, inputs: [glob] };
    const plain = await single({ ...opts, out: join(root, 'near-off') });
    const one = await single({ ...opts, nearDup: 0.8, out: join(root, 'near-one') });
    expect(plain.nearDuplicates).toBe(0);
    expect(one.nearDuplicates).toBe(planted);
    expect(one.duplicates).toBe(2);
    // the option changes the output: fewer tokens written
    const tokens = (f: Map<string, Buffer>) => JSON.parse(f.get('manifest.json')!.toString()).tokens as number;
    expect(tokens(one.files)).toBeLessThan(tokens(plain.files));
    // items of several files (near copies and their originals in different items), then a file each with
    // the dedup in 3 partitions: each holds a third of the band keys and lists candidate pairs, which the
    // merge checks (no whole LSH index); the pairs name every planted copy and spread over the partitions
    for (const [itemBytes, parts] of [
      [60_000, undefined],
      [1, 3],
    ] as const) {
      const out = join(root, `near-many-${itemBytes}`);
      const many = await clustered({ ...opts, nearDup: 0.8, out }, 11, parts, itemBytes);
      expect(many.plan.length).toBeGreaterThan(3);
      expectSameFiles(many.files, one.files);
      expect(many.figures).toMatchObject({ duplicates: 2, nearDuplicates: planted });
      if (!parts) continue;
      const dir = dirname(many.results.get(0)!.file);
      const pairs = readdirSync(dir)
        .filter((f) => f.endsWith('.pairs'))
        .map((f) => new Uint32Array(new Uint8Array(readFileSync(join(dir, f))).buffer));
      expect(pairs.length).toBe(parts);
      expect(pairs.filter((p) => p.length > 0).length).toBeGreaterThan(1);
      const docs = new Set(pairs.flatMap((p) => [...p].filter((_, i) => i % 2 === 0)));
      expect(docs.size).toBeGreaterThanOrEqual(planted);
      // a pairs file that no longer matches its record: the merge refuses it, naming the partition
      const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.pairs') && statSync(join(dir, f)).size > 0)!);
      writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.alloc(8)]));
      await expect(
        mergeItems({ ...opts, nearDup: 0.8, out }, [...many.results.values()], many.parts, many.plan),
      ).rejects.toThrow(
        /cannot merge: near-dedup partition \d of 3: near-\d+-of-0003\.pairs does not match its record/,
      );
      // the merge's near drops come from the pairs: emptied (records made to match), nothing is near-dropped
      for (const f of readdirSync(dir).filter((f) => f.endsWith('.pairs'))) {
        writeFileSync(join(dir, f), '');
        const rec = join(dir, f.replace(/\.pairs$/, '.done.json'));
        const r = JSON.parse(readFileSync(rec, 'utf8'));
        writeFileSync(rec, JSON.stringify({ ...r, pairs: 0, sha256: createHash('sha256').digest('hex') }));
      }
      for (const f of readdirSync(out)) if (f !== '.items') rmSync(join(out, f));
      const emptied = await mergeItems(
        { ...opts, nearDup: 0.8, out },
        [...many.results.values()],
        many.parts,
        many.plan,
      );
      expect(emptied).toMatchObject({ duplicates: 2, nearDuplicates: 0 });
    }
  });

  it('parquet shards: byte-identical, and the signatures are not written into them', async () => {
    const { glob, planted } = nearCorpus();
    const opts = { ...base, format: 'parquet' as const, inputs: [glob], nearDup: 0.8 };
    const one = await single({ ...opts, out: join(root, 'near-pq-one') });
    expect(one.nearDuplicates).toBe(planted);
    const many = await clustered({ ...opts, out: join(root, 'near-pq-many') }, 5, undefined, 50_000);
    expectSameFiles(many.files, one.files);
    const manifest = JSON.parse(one.files.get('manifest.json')!.toString()) as { schema: { name: string }[] };
    expect(JSON.stringify(manifest.schema)).not.toContain('minhash');
    expect(JSON.stringify(manifest.schema)).toContain('tokens');
  });
});
