// `flowlm prep --input 'dir/*'` over a folder holding files of several kinds (the real executable): a
// JSON Lines file of Moby-Dick chapters, a State of the Union address as plain text and three more
// addresses in a Parquet file written by flowlm's ParquetWriter. Each file is read by the reader of
// its kind: the shards hold every document, counted per kind by its source, each with exactly the
// js-tiktoken ids of its normalised text, in file order; and two runs write byte-identical shards.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Int32, Utf8 } from 'apache-arrow';
import { parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeText } from '../../operators/clean/normalize.ts';
import { ParquetWriter } from '../../src/runtime/parquet-writer.ts';
import { batchFromColumns, schemaOf } from '../../src/schema/index.ts';
import { mobyFiles, sotuFiles } from '../operators/ingest/helpers.ts';
import { referenceTokens } from '../pipelines/prep-subset.ts';
import { flowlm, lastJson } from './spawn.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-prep-mixed-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const data = join(tmp, 'data');

/** The documents as prep must see them, in file order: chapters (JSON Lines), one address, three more. */
let docs: Array<{ kind: string; text: string }> = [];

beforeAll(async () => {
  mkdirSync(data);
  const chapters = (await mobyFiles()).slice(0, 4).map((f) => readFileSync(f, 'utf8').trim());
  writeFileSync(
    join(data, 'moby.jsonl'),
    chapters.map((text, i) => JSON.stringify({ id: `moby-${i + 1}`, text })).join('\n') + '\n',
  );
  const sotu = await sotuFiles();
  const address = (year: number) => sotu.find((f) => f.includes(`/${year}_`))!;
  copyFileSync(address(2001), join(data, 'sotu-2001.txt'));
  const years = [1994, 1995, 1996];
  const texts = years.map((y) => readFileSync(address(y), 'utf8').trim());
  const parts: Uint8Array[] = [];
  const writer = new ParquetWriter(
    {
      write: async (d) => {
        parts.push(d.slice());
      },
    },
    { compression: 'snappy', rowGroupRows: 2 },
  );
  await writer.write(
    batchFromColumns(
      schemaOf<{ year: Int32; text: Utf8 }>({ year: { type: new Int32() }, text: { type: new Utf8() } }),
      { year: years, text: texts },
    ),
  );
  await writer.finish();
  writeFileSync(join(data, 'sotu.parquet'), Buffer.concat(parts));
  // file order: moby.jsonl, sotu-2001.txt, sotu.parquet
  docs = [
    ...chapters.map((text) => ({ kind: 'jsonl', text })),
    {
      kind: 'text',
      text: readFileSync(address(2001), 'utf8')
        .replace(/^\uFEFF/, '')
        .trim(),
    },
    ...texts.map((text) => ({ kind: 'parquet', text })),
  ];
});

const prep = (out: string, ...more: string[]) =>
  flowlm(['prep', '--input', join(data, '*'), '--out', out, '--workers', '2', '--json', '--progress', 'none', ...more]);

describe('flowlm prep over a folder of mixed files', () => {
  it('reads the JSON Lines, text and Parquet files each with its own reader: every document, in file order', async () => {
    const out = join(tmp, 'parquet');
    const r = await prep(out, '--format', 'parquet');
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout) as { documents: number; nodes: Record<string, { op: string; rowsOut: number }> };
    expect(j.nodes.read!.op).toBe('ingest/read-files');
    expect(j.documents).toBe(docs.length);
    const shards = readdirSync(out)
      .filter((f) => f.endsWith('.parquet'))
      .sort();
    const rows: Array<{ id: string; source: string; tokens: unknown[] }> = [];
    for (const s of shards)
      rows.push(
        ...((await parquetReadObjects({ file: new Uint8Array(readFileSync(join(out, s))).buffer })) as typeof rows),
      );
    const perKind = (kinds: string[]) =>
      Object.fromEntries(['jsonl', 'text', 'parquet'].map((k) => [k, kinds.filter((x) => x === k).length]));
    expect(perKind(rows.map((x) => x.source))).toEqual({ jsonl: 4, text: 1, parquet: 3 });
    expect(rows.map((x) => x.source)).toEqual(docs.map((d) => d.kind));
    expect(rows.slice(0, 4).map((x) => x.id)).toEqual(['moby-1', 'moby-2', 'moby-3', 'moby-4']);
    const want = referenceTokens(
      docs.map((d) => normalizeText(d.text, { form: 'NFC', whitespace: true, controls: true })),
    );
    expect(rows.map((x) => x.tokens.map(Number))).toEqual(want);
  });

  it('writes byte-identical packed shards on every run', async () => {
    const hashes = async (out: string) => {
      const r = await prep(out, '--seq-len', '128', '--shard-bytes', '64k');
      expect(r.code, r.stderr).toBe(0);
      return Object.fromEntries(
        readdirSync(out)
          .sort()
          .map((f) => [
            f,
            createHash('sha256')
              .update(readFileSync(join(out, f)))
              .digest('hex'),
          ]),
      );
    };
    const a = await hashes(join(tmp, 'ipc-1'));
    expect(Object.keys(a).filter((f) => f.endsWith('.arrow')).length).toBeGreaterThan(1);
    expect(await hashes(join(tmp, 'ipc-2'))).toEqual(a);
  });
});
