// The cluster bench's input: the embedded corpus as it is (368 plain-text files, one work item each,
// ~32 kB on average), or the same documents in order in `files` JSON Lines files (one {"text"} record per
// document), so items are larger, as real corpora's shard files are, and the per-item costs (a pipeline
// per item, its output synced and renamed, a message round trip) are spread over more text.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { mobyDickChapters, sotuTexts } from '../operators/ingest/embedded-corpus.ts';

/** The corpus files in the order prep reads them (each glob's matches sorted, as expandGlobs sorts). */
function corpusFiles(): string[] {
  return [sotuTexts(), mobyDickChapters()].flatMap((g) => {
    const re = new RegExp(`^${basename(g).replace(/[.]/g, '\\.').replace('*', '.*')}$`);
    return readdirSync(dirname(g))
      .filter((f) => re.test(f))
      .sort()
      .map((f) => join(dirname(g), f));
  });
}

/** prep's input flags for the bench: [] (the embedded corpus) or --input DIR/*.jsonl. */
export function benchInput(dir: string, files: number): { flags: string[]; label: string } {
  if (files === 0) return { flags: [], label: 'embedded corpus (sotu + moby-dick chapters), 368 text files' };
  const docs = corpusFiles().map((f) => readFileSync(f, 'utf8'));
  mkdirSync(dir, { recursive: true });
  const per = Math.ceil(docs.length / files);
  for (let k = 0; k < files; k++) {
    const part = docs.slice(k * per, (k + 1) * per);
    writeFileSync(
      join(dir, `part-${String(k).padStart(4, '0')}.jsonl`),
      part.map((text) => `${JSON.stringify({ text })}\n`).join(''),
    );
  }
  return {
    flags: ['--input', join(dir, '*.jsonl')],
    label: `the embedded corpus's ${docs.length} documents in ${files} JSON Lines files`,
  };
}
