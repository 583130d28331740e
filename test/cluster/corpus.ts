// Inputs and comparisons of the clustered prep tests: State of the Union addresses (one document per
// file), a few of them copied under other names so duplicates span the workers' items, and a check that
// a clustered run's manifest and every shard equal a single-process run's bytes.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { sotuTexts } from '../../operators/ingest/embedded-corpus.ts';

/** 14 addresses of 1790-1830 (short ones: cheap to tokenize) + 3 exact copies, in `dir`; returns the glob. */
export function sotuInputs(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const src = dirname(sotuTexts());
  const files = readdirSync(src)
    .filter((f) => /^1(79\d|8[0-2]\d)_.*\.txt$/.test(f))
    .sort()
    .slice(0, 14);
  files.forEach((f, i) => copyFileSync(join(src, f), join(dir, `${String(i * 2).padStart(2, '0')}-${f}`)));
  // duplicates later in file order than their originals, so the first occurrence wins as in one process
  for (const [i, k] of [
    [3, 1],
    [9, 4],
    [13, 10],
  ] as const)
    copyFileSync(join(src, files[k]!), join(dir, `${String(i * 2 + 1).padStart(2, '0')}-copy-${files[k]}`));
  return join(dir, '*.txt');
}

/** A copy of one of the inputs without its commas, later in file order: an exact duplicate only when dedup
 * ignores punctuation. */
export function punctuationCopy(dir: string): void {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort();
  writeFileSync(join(dir, `98-commas-${files[6]}`), readFileSync(join(dir, files[6]!), 'utf8').replace(/,/g, ''));
}

/** Near copies (a word changed) of 2 of the inputs, later in file order: what --near-dup drops. */
export function nearCopies(dir: string): number {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort();
  for (const [at, k] of [
    [files[2]!, 0],
    [files[11]!, 5],
  ] as const) {
    let seen = -1;
    const text = readFileSync(join(dir, at), 'utf8').replace(/\b[a-z]{7,}\b/g, (w) => (++seen === k ? `${w}s` : w));
    writeFileSync(join(dir, `99-near-${at}`), text);
  }
  return 2;
}

/** The flags of both runs: small rows and shards, so the merge writes several shards. */
export const PREP_FLAGS = ['--seq-len', '128', '--shard-bytes', '48k', '--workers', '0'];

/** The fault tests' item size: a file each (17 items), so items can fail, stall and be killed apart. */
export const ITEM_PER_FILE = ['--item-bytes', '1'];

/** manifest.json and every shard it lists: same bytes in both directories, and no other shard. */
export function expectSameOutput(ref: string, out: string): void {
  const manifest = readFileSync(join(ref, 'manifest.json'), 'utf8');
  expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toBe(manifest);
  const { shards } = JSON.parse(manifest) as { shards: Array<{ file?: string; path?: string }> };
  expect(shards.length).toBeGreaterThan(1);
  for (const s of shards) {
    const name = s.file ?? s.path!;
    expect(existsSync(join(out, name)), name).toBe(true);
    expect(readFileSync(join(out, name)).equals(readFileSync(join(ref, name))), name).toBe(true);
  }
  const listing = (d: string) =>
    readdirSync(d)
      .filter((f) => !f.startsWith('.') && statSync(join(d, f)).isFile())
      .sort();
  expect(listing(out)).toEqual(listing(ref));
}

/** Single-process `flowlm prep` of `input` into `out`, in this process (no CLI start-up to pay). */
export async function referencePrep(
  input: string,
  out: string,
  extra: string[] = [],
): Promise<Record<string, unknown>> {
  const { main } = await import('../../src/cli/main.ts');
  let stdout = '',
    stderr = '';
  const args = ['prep', '--input', input, '--out', out, ...PREP_FLAGS, ...extra, '--json', '--progress', 'none'];
  const code = await main(args, {
    out: (t) => {
      stdout += `${t}\n`;
    },
    err: (t) => {
      stderr += `${t}\n`;
    },
    stderr: process.stderr,
  });
  expect(code, stderr).toBe(0);
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

/** The index of the first item a worker's log (stderr) says it took. */
export const firstItem = (stderr: string): number | null => {
  const m = /: item (\d+) \(/.exec(stderr);
  return m ? Number(m[1]) : null;
};
