// Which reader a prep input needs, chosen from how the path ends (globs by their pattern): JSON Lines,
// Parquet, Arrow IPC, WARC (HTML payloads, so text extraction follows), an http(s) URL (crawled from
// that seed, then extracted), or plain text files, one document per file. A glob that can match files
// of several kinds ("data/*") is read by read-files, which gives each file the reader of its kind.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SpecError } from '../../src/core/errors.ts';
import type { PipelineSpecInput } from '../../src/graph/spec.ts';
import { crawl } from './crawl.ts';
import { certainKind, inputKind } from './input-kind.ts';
import { readFiles } from './read-files.ts';
import { readIpc } from './read-ipc.ts';
import { readJsonl } from './read-jsonl.ts';
import { readParquet } from './read-parquet.ts';
import { readText } from './read-text.ts';
import { readWarc } from './read-warc.ts';

export type Step = NonNullable<PipelineSpecInput['steps']>[number];
export { inputKind, type InputKind } from './input-kind.ts';

/** Text extraction from HTML is another operator (clean/extract-html); without it HTML inputs are refused. */
const EXTRACT_HTML = fileURLToPath(new URL('../clean/extract-html.ts', import.meta.url));

/** The reader (and for HTML the extraction) steps for `inputs`, batches of about `batchBytes` of text. */
export function readerSteps(inputs: readonly string[], batchBytes: number): Step[] {
  if (inputs.some((i) => certainKind(i) === undefined)) {
    const urls = inputs.filter((i) => inputKind(i) === 'url');
    if (urls.length > 0)
      throw new SpecError([
        { path: 'input', message: `a URL to crawl (${urls[0]}) cannot be read with files: crawl in a run of its own` },
      ]);
    return [{ id: 'read', op: readFiles, config: { paths: [...inputs], batchBytes } }];
  }
  const kinds = [...new Set(inputs.map(inputKind))];
  if (kinds.length > 1) {
    throw new SpecError([
      {
        path: 'input',
        message: `inputs of different kinds (${kinds.join(', ')}): give inputs of one kind per run, or write a pipeline file that merges them`,
      },
    ]);
  }
  const kind = kinds[0]!;
  const paths = [...inputs];
  const html = (): Step[] => {
    if (!existsSync(EXTRACT_HTML))
      throw new SpecError([
        {
          path: 'input',
          message: `${kind === 'url' ? 'crawled pages' : 'WARC records'} are HTML and need the clean/extract-html operator, which this installation lacks`,
        },
      ]);
    return [{ id: 'extract', op: 'clean/extract-html', config: {} }];
  };
  switch (kind) {
    case 'url':
      if (paths.length > 1)
        throw new SpecError([
          {
            path: 'input',
            message:
              `give one URL to crawl from (got ${paths.length}); more seeds: --set ` +
              `read.seeds='["https://a/","https://b/"]'`,
          },
        ]);
      return [{ id: 'read', op: crawl, config: { seeds: paths } }, ...html()];
    case 'warc':
      return [{ id: 'read', op: readWarc, config: { paths, batchBytes } }, ...html()];
    case 'jsonl':
      return [{ id: 'read', op: readJsonl, config: { paths, batchBytes } }];
    case 'parquet':
      return [{ id: 'read', op: readParquet, config: { paths } }];
    case 'arrow':
      return [{ id: 'read', op: readIpc, config: { paths } }];
    case 'text':
      return [{ id: 'read', op: readText, config: { paths, unit: 'file', batchBytes } }];
  }
}
