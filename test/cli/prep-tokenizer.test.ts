// `flowlm prep --tokenizer FILE`: the shards hold the loaded tokenizer's ids for each document (after
// prep's normalisation), its end token after each; --tokenizer with --encoding is a usage error.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { afterAll, describe, expect, it } from 'vitest';
import { normalizeText } from '../../operators/clean/normalize.ts';
import { IdBuffer } from '../../operators/tokenize/engine/id-buffer.ts';
import { loadTokenizer } from '../../operators/tokenize/load/load-tokenizer.ts';
import { main } from '../../src/cli/main.ts';
import { mobyFiles } from '../operators/ingest/helpers.ts';
import { FIXTURES } from '../operators/tokenize/load/references.ts';
import { flowlm, lastJson } from './spawn.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-cli-prep-tokenizer-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('flowlm prep --tokenizer', () => {
  it("writes shards whose ids are the tokenizer file's, its end token after each document", async () => {
    const data = join(tmp, 'data');
    mkdirSync(data);
    const files = (await mobyFiles()).slice(0, 4);
    files.forEach((f, k) => copyFileSync(f, join(data, `doc-${k}.txt`)));
    const model = `${FIXTURES}spm-bpe-llama.model`;
    const out = join(tmp, 'out');
    const r = await flowlm([
      'prep',
      '--input',
      join(data, '*.txt'),
      '--out',
      out,
      '--tokenizer',
      model,
      '--format',
      'parquet',
      '--no-dedup',
      '--workers',
      '2',
      '--json',
      '--progress',
      'none',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect((lastJson(r.stdout) as { documents: number }).documents).toBe(files.length);
    const rows: Array<{ tokens: unknown[] }> = [];
    for (const s of readdirSync(out)
      .filter((f) => f.endsWith('.parquet'))
      .sort())
      rows.push(
        ...((await parquetReadObjects({ file: new Uint8Array(readFileSync(join(out, s))).buffer })) as typeof rows),
      );
    const t = loadTokenizer(model);
    const want = files.map((f) => {
      const text = normalizeText(
        readFileSync(f, 'utf8')
          .replace(/^\uFEFF/, '')
          .trim(),
        { form: 'NFC', whitespace: true, controls: true },
      );
      const ids = new IdBuffer();
      t.encode(text, ids);
      return [...ids.view(), t.specials.get('</s>')];
    });
    expect(rows.map((x) => x.tokens.map(Number))).toEqual(want);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { encoding: string };
    expect(manifest.encoding).toBe(model);
  });

  it('rejects --tokenizer with --encoding, before anything runs', async () => {
    let err = '';
    const code = await main(['prep', '--tokenizer', 'x.model', '--encoding', 'gpt2', '--out', join(tmp, 'never')], {
      out: () => {},
      err: (t) => {
        err += t;
      },
      stderr: process.stderr,
    });
    expect(code).toBe(2);
    expect(err).toMatch(/--tokenizer and --encoding: give one of them/);
  });
});
