// A small stand-in for pipelines/prep-cluster.ts, for testing the NATS loop on its own (in process):
// an item output is the input's bytes upper-cased, written atomically; the merge concatenates them.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ItemResult, PrepClusterModule, WorkItem } from '../../src/cli/prep-cluster-contract.ts';

/** `runs` collects the index of every runItem call; each run takes at least `delayMs`. */
export function fakeModule(paths: string[], runs: number[] = [], delayMs = 0): PrepClusterModule {
  const file = (item: WorkItem) => join(item.options.out!, `item-${item.index}.txt`);
  const verifyItem = async (item: WorkItem): Promise<ItemResult | null> => {
    const f = file(item);
    if (!existsSync(f)) return null;
    const b = readFileSync(f);
    return {
      index: item.index,
      file: f,
      sha256: createHash('sha256').update(b).digest('hex'),
      docs: 1,
      bytesIn: b.length,
      tokens: 0,
    };
  };
  return {
    planItems: async () => paths.map((p) => [p]),
    verifyItem,
    async runItem(item) {
      runs.push(item.index);
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      const done = await verifyItem(item);
      if (done) return done;
      const text = readFileSync(item.path, 'utf8').toUpperCase();
      mkdirSync(item.options.out!, { recursive: true });
      writeFileSync(`${file(item)}.tmp`, text);
      renameSync(`${file(item)}.tmp`, file(item));
      return (await verifyItem(item))!;
    },
    async mergeItems(options, items) {
      const text = items.map((r) => readFileSync(r.file, 'utf8')).join('');
      const manifest = join(options.out!, 'manifest.json');
      writeFileSync(manifest, JSON.stringify({ text }));
      return { docs: items.length, duplicates: 0, tokens: 0, rows: items.length, shards: 1, manifest };
    },
  };
}
