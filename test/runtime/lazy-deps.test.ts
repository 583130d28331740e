// Heavy optional libraries load when they are used, not when a module that could use them is linked:
// `flowlm worker`, `flowlm prep` and the coordinator link the readers and writers of every format, and
// loading parquet-wasm, warcio (with hash-wasm), better-sqlite3, the crawler and js-tiktoken up front
// cost every worker process ~0.4 s of CPU at start. A fresh process links what prep and the cluster
// worker link and reports the packages it loaded (ES imports through a resolve hook, require() through
// the CommonJS cache); a second one also uses each and they appear.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REGISTER = fileURLToPath(new URL('../../src/runtime/ts-register.mjs', import.meta.url));
const url = (p: string) => JSON.stringify(new URL(`../../${p}`, import.meta.url).href);
const dir = mkdtempSync(join(tmpdir(), 'flowlm-lazy-deps-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HEAVY = {
  'parquet-wasm': /\/node_modules\/parquet-wasm\//,
  warcio: /\/node_modules\/warcio\//,
  'hash-wasm': /\/node_modules\/hash-wasm\//,
  'better-sqlite3': /\/node_modules\/better-sqlite3\//,
  'js-tiktoken': /\/node_modules\/js-tiktoken\/dist\/lite/,
  crawler: /\/operators\/ingest\/crawl\/crawler\.ts$/,
};

const LINK =
  `await import(${url('src/cli/main.ts')});\n` +
  `await import(${url('src/cli/worker-command.ts')});\n` +
  `await import(${url('src/cli/prep-command.ts')});\n` +
  `await import(${url('pipelines/prep-cluster.ts')});\n` +
  `await import(${url('pipelines/prep-default.ts')});\n`;

/** The heavy libraries a fresh process loaded while running `body` (after LINK). */
function loaded(body: string): string[] {
  const hook =
    'export async function resolve(s, c, n) { const r = await n(s, c); ' +
    "process.stderr.write('URL ' + r.url + '\\n'); return r; }";
  const script =
    "import { register, createRequire } from 'node:module';\n" +
    `register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));\n` +
    `(await import(${JSON.stringify(REGISTER)})).registerTs();\n` +
    LINK +
    body +
    "\nfor (const k of Object.keys(createRequire(import.meta.url).cache)) process.stderr.write('URL ' + k + '\\n');\n";
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the probe process exited ${r.status}: ${r.stderr.slice(-3000)}`);
  const urls = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('URL '))
    .map((l) => l.slice(4));
  expect(urls.some((u) => u.endsWith('/pipelines/prep-cluster.ts'))).toBe(true); // the hook saw the imports
  return Object.entries(HEAVY)
    .filter(([, re]) => urls.some((u) => re.test(u)))
    .map(([name]) => name);
}

describe('heavy libraries load on first use', () => {
  it('are not loaded by linking the CLI, prep and the cluster worker', () => {
    expect(loaded('')).toEqual([]);
  });

  it('are loaded by the code that uses them', () => {
    const warc = join(dir, 'one.warc');
    const parquet = join(dir, 'one.parquet');
    const body =
      "const { writeFileSync, readFileSync } = await import('node:fs');\n" +
      `const http = 'HTTP/1.1 200 OK\\r\\nContent-Type: text/html\\r\\n\\r\\n<html><body><p>Call me Ishmael.</p></body></html>';\n` +
      "const head = ['WARC/1.1', 'WARC-Type: response', 'WARC-Target-URI: http://127.0.0.1/', " +
      "'WARC-Date: 2026-01-01T00:00:00Z', 'WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000001>', " +
      "'Content-Type: application/http; msgtype=response', 'Content-Length: ' + Buffer.byteLength(http)].join('\\r\\n');\n" +
      `writeFileSync(${JSON.stringify(warc)}, head + '\\r\\n\\r\\n' + http + '\\r\\n\\r\\n');\n` +
      `const { readWarc } = await import(${url('operators/ingest/read-warc.ts')});\n` +
      `const { makeContext } = await import(${url('src/core/context.ts')});\n` +
      'let docs = 0;\n' +
      `for await (const b of readWarc.def.make(readWarc.def.config.parse({ paths: [${JSON.stringify(warc)}] }), makeContext('read'))) docs += b.numRows;\n` +
      "if (docs !== 1) throw new Error('read ' + docs + ' WARC records');\n" +
      `const { RunStore } = await import(${url('src/runs/store.ts')});\n` +
      `RunStore.open(${JSON.stringify(join(dir, 'runs.db'))}).close();\n` +
      `const { createEngine } = await import(${url('operators/tokenize/engine/engines.ts')});\n` +
      "const ids = []; createEngine('js-tiktoken', 'cl100k').encode('hello world', { pushAll: (a) => ids.push(...a) });\n" +
      "if (ids.join() !== '15339,1917') throw new Error('js-tiktoken ids ' + ids);\n" +
      `const { ParquetWriter } = await import(${url('src/runtime/parquet-writer.ts')});\n` +
      `const { readParquetSchema } = await import(${url('operators/ingest/read-parquet.ts')});\n` +
      "const { tableFromArrays } = await import('apache-arrow');\n" +
      'const chunks = [];\n' +
      "const w = new ParquetWriter({ write: async (c) => { chunks.push(c); } }, { compression: 'zstd', rowGroupRows: 10 });\n" +
      "await w.write(tableFromArrays({ text: ['a', 'b'] }).batches[0]); await w.finish();\n" +
      `writeFileSync(${JSON.stringify(parquet)}, Buffer.concat(chunks));\n` +
      `if (readParquetSchema(${JSON.stringify(parquet)}).fields[0].name !== 'text') throw new Error('parquet schema');\n` +
      `const { crawl } = await import(${url('operators/ingest/crawl.ts')});\n` +
      // a seed nothing listens on: the crawler loads, fails to fetch it and records the error
      `const it = crawl.def.make(crawl.def.config.parse({ seeds: ['http://127.0.0.1:9/'], retries: 0 }), makeContext('crawl'));\n` +
      'for await (const b of it) void b;\n';
    expect(loaded(body).sort()).toEqual(
      ['better-sqlite3', 'crawler', 'hash-wasm', 'js-tiktoken', 'parquet-wasm', 'warcio'].sort(),
    );
  });
});
