// AtomicFile: chunks written with writev (partial writes continued), data pushed to disk ahead as it
// grows, nothing at the final path until commit (or publish, after prepare), nothing left behind by abort.
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
      const chunks = Array.from({ length: 1 + rng.below(5) }, () =>
        Uint8Array.from({ length: rng.below(3) === 0 ? 0 : rng.below(400_000) }, () => rng.below(256)),
      );
      await f.write(chunks);
      parts.push(...chunks);
      if (k % 10 === 0) {
        await f.write(`line ${k}\n`);
        parts.push(Buffer.from(`line ${k}\n`));
      }
    }
    const want = Buffer.concat(parts);
    expect(want.length).toBeGreaterThan(8 << 20); // several background syncs
    expect(f.bytes).toBe(want.length);
    expect(existsSync(f.path)).toBe(false);
    await f.commit();
    expect(readFileSync(f.path).equals(want)).toBe(true);
    expect(readdirSync(dir).filter((n) => n.startsWith('.flowlm-tmp-'))).toEqual([]);
  });

  it('prepare puts the whole file under its temporary name, publish moves it into place', async () => {
    const a = new AtomicFile(join(dir, 'a.txt')),
      b = new AtomicFile(join(dir, 'b.txt'));
    await a.write('first\n');
    await b.write([Buffer.from('second\n')]);
    await Promise.all([a.prepare(), b.prepare()]);
    expect(existsSync(a.path) || existsSync(b.path)).toBe(false);
    expect(readFileSync(a.tmp, 'utf8')).toBe('first\n');
    expect(await a.publish()).toBe(a.path);
    expect(existsSync(b.path)).toBe(false);
    await b.publish();
    expect(readFileSync(b.path, 'utf8')).toBe('second\n');
    expect(existsSync(a.tmp) || existsSync(b.tmp)).toBe(false);
  });

  it('abort leaves neither the file nor its temporary', async () => {
    const f = new AtomicFile(join(dir, 'gone.bin'));
    await f.write([new Uint8Array(5 << 20).fill(7)]);
    await f.abort();
    expect(existsSync(f.path)).toBe(false);
    expect(readdirSync(dir).filter((n) => n.includes('gone.bin'))).toEqual([]);
  });
});
