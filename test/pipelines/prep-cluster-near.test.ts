// Near-dedup (prep --near-dup) in a clustered prep: the items compute each document's MinHash signature,
// the merge runs them through one LSH index in order after exact dedup, so the shards and manifest are
// the bytes single-process prep writes (signature on the pool, then dedup/minhash/filter). Real text:
// State of the Union passages with planted near copies (a word changed) within and across files.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
    // exact dedup in 2 partitions
    for (const [itemBytes, parts] of [
      [60_000, undefined],
      [1, 2],
    ] as const) {
      const many = await clustered(
        { ...opts, nearDup: 0.8, out: join(root, `near-many-${itemBytes}`) },
        11,
        parts,
        itemBytes,
      );
      expect(many.plan.length).toBeGreaterThan(3);
      expectSameFiles(many.files, one.files);
      expect(many.figures).toMatchObject({ duplicates: 2, nearDuplicates: planted });
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
