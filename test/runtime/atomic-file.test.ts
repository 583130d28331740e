// AtomicFile: chunks written with writev (partial writes continued), data pushed to disk ahead as it
// grows, nothing at the final path until commit, nothing left behind by abort.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AtomicFile } from '../../src/runtime/files.ts';
import { Rng } from '../../src/runtime/rng.ts';

const dir = mkdtempSync(join(tmpdir(), 'flowlm-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('AtomicFile', () => {
  it('writes chunk lists (empty ones too) and strings in order, past the sync-ahead size, and appears only at commit', async () => {
    const rng = new Rng(3);
    const parts: Uint8Array[] = [];
    const f = new AtomicFile(join(dir, 'out.bin'));
    for (let k = 0; k < 40; k++) {
      const chunks = Array.from({ length: 1 + rng.below(5) }, () => Uint8Array.from({ length: rng.below(3) === 0 ? 0 : rng.below(400_000) }, () => rng.below(256)));
      await f.write(chunks);
      parts.push(...chunks);
      if (k % 10 === 0) { await f.write(`line ${k}\n`); parts.push(Buffer.from(`line ${k}\n`)); }
    }
    const want = Buffer.concat(parts);
    expect(want.length).toBeGreaterThan(8 << 20); // several background syncs
    expect(f.bytes).toBe(want.length);
    expect(existsSync(f.path)).toBe(false);
    await f.commit();
    expect(readFileSync(f.path).equals(want)).toBe(true);
    expect(readdirSync(dir).filter((n) => n.startsWith('.flowlm-tmp-'))).toEqual([]);
  });

  it('abort leaves neither the file nor its temporary', async () => {
    const f = new AtomicFile(join(dir, 'gone.bin'));
    await f.write([new Uint8Array(5 << 20).fill(7)]);
    await f.abort();
    expect(existsSync(f.path)).toBe(false);
    expect(readdirSync(dir).filter((n) => n.includes('gone.bin'))).toEqual([]);
  });
});
