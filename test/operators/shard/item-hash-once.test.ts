// An item output is hashed once per process: the coordinator's tracker (checkItem) and its following merge
// (awaitItem) both verify every item, and the second trusts the first while the file's identity (device,
// inode, size, mtime) is unchanged. Shown with real files on disk: a file changed in place with its
// identity kept is trusted (no second hash), one renamed over it, a removed memo, or a changed mtime is
// hashed again and caught.
import { mkdtempSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkItem, itemFile, writeItemRecord } from '../../../operators/shard/item-output.ts';
import { awaitItem } from '../../../operators/shard/item-batches.ts';
import { sha256Hex } from '../../../operators/shard/manifest.ts';
import { mobyDickChapters } from '../../../operators/ingest/embedded-corpus.ts';

const root = mkdtempSync(join(tmpdir(), 'flowlm-item-hash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const chapter = (n: number) => new Uint8Array(readFileSync(mobyDickChapters().replace('*', String(n))));
const inputs = ['/in/a.txt'];
const expect0 = { index: 0, inputs, configHash: 'cfg' };

/** An item file of `bytes` with its completion record, in a fresh directory. */
async function item(bytes: Uint8Array): Promise<{ dir: string; file: string }> {
  const dir = mkdtempSync(join(root, 'job-'));
  const file = join(dir, itemFile(0));
  writeFileSync(file, bytes);
  utimesSync(file, MTIME, MTIME); // whole seconds: an mtime the test can put back exactly
  await writeItemRecord(dir, {
    index: 0,
    file: itemFile(0),
    inputs,
    configHash: 'cfg',
    sha256: sha256Hex(bytes),
    bytes: bytes.length,
    docs: 1,
    bytesIn: bytes.length,
    tokens: 1,
  });
  return { dir, file };
}

const MTIME = 1_700_000_000;

/** Overwrites `file` in place with `bytes` (same length), its mtime put back: the same identity. */
function changeInPlace(file: string, bytes: Uint8Array): void {
  const s = statSync(file);
  writeFileSync(file, bytes); // truncates and rewrites the same inode
  utimesSync(file, MTIME, MTIME);
  const t = statSync(file);
  expect([t.ino, t.size, t.mtimeMs]).toEqual([s.ino, s.size, s.mtimeMs]);
}

const same = (x: unknown, y: Uint8Array) => x instanceof Uint8Array && Buffer.compare(x, y) === 0;

const flipped = (b: Uint8Array) => {
  const c = b.slice();
  const at = c.length >> 1;
  c[at] = c[at]! ^ 0x20; // a letter's case: same length
  return c;
};

describe('item outputs hashed once per process', () => {
  it('checkItem trusts its own earlier hash while the identity holds; a file renamed over it is hashed', async () => {
    const bytes = chapter(1);
    const { dir, file } = await item(bytes);
    expect(typeof (await checkItem(dir, expect0))).toBe('object'); // hashed, verified
    changeInPlace(file, flipped(bytes));
    // not hashed again: the record still passes (what a second hash would have caught)
    expect(typeof (await checkItem(dir, expect0))).toBe('object');
    // a new file under the name (another inode): hashed, and the changed bytes are caught
    writeFileSync(`${file}.new`, flipped(bytes));
    renameSync(`${file}.new`, file);
    expect(await checkItem(dir, expect0)).toMatch(/does not match its record/);
  });

  it('a changed mtime is another identity: hashed again', async () => {
    const bytes = chapter(2);
    const { dir, file } = await item(bytes);
    expect(typeof (await checkItem(dir, expect0))).toBe('object');
    writeFileSync(file, flipped(bytes)); // same inode, same size, new mtime
    utimesSync(file, MTIME + 5, MTIME + 5);
    expect(await checkItem(dir, expect0)).toMatch(/does not match its record/);
  });

  it("the following merge's read (awaitItem) and the tracker's check share the hash, either order", async () => {
    const ctx = { nodeId: 'read', signal: new AbortController().signal };
    const follow = { inputs: [inputs], configHash: 'cfg', pollMs: 5 };

    // merge first: it hashes the bytes it reads; the tracker's check after it trusts that
    const a = chapter(3);
    const one = await item(a);
    expect(same(await awaitItem(one.file, 0, follow, ctx), a)).toBe(true);
    changeInPlace(one.file, flipped(a));
    expect(typeof (await checkItem(one.dir, expect0))).toBe('object');

    // tracker first: the merge's read after it returns the bytes without hashing them
    const b = chapter(4);
    const two = await item(b);
    expect(typeof (await checkItem(two.dir, expect0))).toBe('object');
    changeInPlace(two.file, flipped(b));
    expect(same(await awaitItem(two.file, 0, follow, ctx), flipped(b))).toBe(true);

    // nothing hashed yet: a changed file does not verify, and the merge fails rather than use it
    const c = chapter(5);
    const three = await item(c);
    writeFileSync(three.file, flipped(c));
    await expect(awaitItem(three.file, 0, follow, ctx)).rejects.toThrow(/does not verify/);
  });
});
