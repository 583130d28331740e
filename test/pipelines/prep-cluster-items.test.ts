// The item operators of clustered prep on their own: shard/write-item's dedup-key settings and
// shard/read-items' index bound (maxEntries, onFull), on whole State of the Union addresses, one
// of them again re-cased and re-spaced (a duplicate only for the default key: lower-cased, whitespace
// collapsed).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { sotuTexts } from '../../operators/ingest/embedded-corpus.ts';
import { readText } from '../../operators/ingest/read-text.ts';
import { itemFile } from '../../operators/shard/item-output.ts';
import { readItems } from '../../operators/shard/read-items.ts';
import { writeItem } from '../../operators/shard/write-item.ts';
import { tokenize } from '../../operators/tokenize/tokenize.ts';
import { runPipeline } from '../../src/runtime/run.ts';

const root = mkdtempSync(join(tmpdir(), 'flowlm-prep-items-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SOTU = dirname(sotuTexts());
/** 1910-1915, then 1912's address again, upper-cased with doubled spaces */
function corpus(): string[] {
  const dir = join(root, 'in');
  mkdirSync(dir, { recursive: true });
  const names = readdirSync(SOTU)
    .filter((f) => /^191[0-5]_.*\.txt$/.test(f))
    .sort();
  const files = names.map((n, i) => {
    const f = join(dir, `d${i}.txt`);
    writeFileSync(f, readFileSync(join(SOTU, n)));
    return f;
  });
  const again = join(dir, 'd9.txt');
  writeFileSync(again, readFileSync(files[2]!, 'utf8').toUpperCase().replace(/ /g, '  '));
  return [...files, again];
}

/** Each file as a work item written by shard/write-item with `key` settings; the item files in order. */
async function items(dir: string, key: Record<string, unknown>): Promise<string[]> {
  const out: string[] = [];
  for (const [index, file] of corpus().entries()) {
    const r = await runPipeline({
      name: 'item',
      steps: [
        { id: 'read', op: readText, config: { paths: [file] } },
        { id: 'tokenize', op: tokenize, config: { encoding: 'gpt2', keepText: true } },
        { id: 'item', op: writeItem, config: { dir, index, inputs: [file], configHash: 'test', ...key } },
      ],
    });
    expect(r.error).toBeUndefined();
    out.push(join(dir, itemFile(index)));
  }
  return out;
}

async function kept(config: Parameters<typeof readItems>[0]): Promise<number> {
  const batches = await lastValueFrom(readItems(config).pipe(toArray()));
  return batches.reduce((n, b) => n + b.numRows, 0);
}

describe('clustered prep item operators', () => {
  it('write-item keys documents as dedup/exact does, by its settings', async () => {
    const byDefault = await items(join(root, 'default'), {});
    expect(await kept({ files: byDefault })).toBe(6); // the re-cased copy is a duplicate
    expect(await kept({ files: byDefault, dedup: false })).toBe(7);
    const cased = await items(join(root, 'cased'), { lowercase: false });
    expect(await kept({ files: cased })).toBe(7); // not when case counts
    const spaced = await items(join(root, 'spaced'), { whitespace: false });
    expect(await kept({ files: spaced })).toBe(7); // nor when spacing does
    const seeded = await items(join(root, 'seeded'), { seed: 7 });
    expect(readFileSync(seeded[0]!).equals(readFileSync(byDefault[0]!))).toBe(false); // other keys
    expect(await kept({ files: seeded })).toBe(6);
  });

  it("read-items holds at most maxEntries keys: fails when full, or forgets the oldest half ('evict')", async () => {
    const files = await items(join(root, 'bound'), {});
    await expect(kept({ files, maxEntries: 4 })).rejects.toThrow(/exact-dedup index is full: maxEntries 4/);
    // one key per generation: the first copy is forgotten by the time the second comes
    expect(await kept({ files, maxEntries: 2, onFull: 'evict' })).toBe(7);
    expect(await kept({ files, maxEntries: 7, onFull: 'evict' })).toBe(6);
  });
});
