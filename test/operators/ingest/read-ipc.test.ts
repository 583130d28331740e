// write-ipc and read-ipc on real text: file and stream round trips with a dictionary column whose values
// change from batch to batch, and truncated files and streams (the batches before the cut kept).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC, type RecordBatch } from 'apache-arrow';
import { from, lastValueFrom } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { readIpc } from '../../../operators/ingest/read-ipc.ts';
import { writeIpc } from '../../../operators/io/write-ipc.ts';
import { FlowError } from '../../../src/core/errors.ts';
import { formatSchema } from '../../../src/schema/compat.ts';
import { batchFromColumns, docSchema } from '../../../src/schema/index.ts';
import { cleanup, drain, emails, tmp } from './helpers.ts';

const dir = tmp('read-ipc');
afterAll(() => cleanup(dir));

// real e-mails; `source` is the folder, so batches carry different dictionaries
const folders = ['easy-ham-1', 'spam-1', 'hard-ham-1', 'spam-2'];
const docs = folders.flatMap((folder) =>
  emails(40, folder).map((m, i) => ({
    id: `${folder}/${m.name}`,
    text: m.text,
    url: i % 4 === 0 ? null : `mailto:${i}@example.org`,
    source: folder,
  })),
);
const batches = (rows: number): RecordBatch[] => {
  const out: RecordBatch[] = [];
  for (let i = 0; i < docs.length; i += rows) {
    const part = docs.slice(i, i + rows);
    out.push(
      batchFromColumns(docSchema(), {
        id: part.map((d) => d.id),
        text: part.map((d) => d.text),
        url: part.map((d) => d.url),
        source: part.map((d) => d.source),
      }),
    );
  }
  return out;
};
const write = (path: string, format: 'file' | 'stream', rows = 25) =>
  lastValueFrom(from(batches(rows)).pipe(writeIpc({ path, format })));

describe('io/write-ipc and ingest/read-ipc', () => {
  for (const format of ['file', 'stream'] as const) {
    it(`${format} format round trip keeps rows and the dictionary column`, async () => {
      const path = join(dir, `docs.${format}.arrow`);
      expect(await write(path, format)).toMatchObject({
        rows: docs.length,
        batches: Math.ceil(docs.length / 25),
        files: [path],
      });
      const back = await drain(readIpc, { paths: [path] });
      expect(back.error).toBeUndefined();
      expect(back.rows).toEqual(docs);
      expect(back.batches.map((b) => b.numRows)).toEqual(batches(25).map((b) => b.numRows));
      expect(formatSchema(readIpc.def.output(readIpc.def.config.parse({ paths: [path] })))).toBe(
        '{ id: Utf8, text: Utf8, url: Utf8?, source: Dictionary<Utf8> }',
      );
      // Arrow's own reader agrees
      expect(
        tableFromIPC(readFileSync(path))
          .toArray()
          .map((r) => r.toJSON()),
      ).toEqual(docs);
    });
  }

  it('a file cut before its footer: batches before the cut are read and the cut is reported', async () => {
    const path = join(dir, 'whole.arrow');
    await write(path, 'file', 20);
    const bytes = readFileSync(path);
    const cut = join(dir, 'cut.arrow');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.55)));
    const r = await drain(readIpc, { paths: [cut, path], rejects: join(dir, 'rejects.jsonl') });
    expect(r.error).toBeUndefined();
    const kept = r.rows.length - docs.length;
    expect(kept % 20).toBe(0);
    expect(kept).toBeGreaterThanOrEqual(40);
    expect(r.rows).toEqual([...docs.slice(0, kept), ...docs]);
    expect(r.ctx.stats.dropReasons.get('truncated IPC data')).toBe(1);
    expect(r.log[0]).toContain(cut);
    expect(r.log[0]).toContain(`batch ${kept / 20}, row ${kept}`);
    expect(JSON.parse(readFileSync(join(dir, 'rejects.jsonl'), 'utf8'))).toMatchObject({
      file: cut,
      batch: kept / 20,
      row: kept,
    });
  });

  it('a cut stream: onError "fail" names the file and the batch; the batches before it were emitted', async () => {
    const path = join(dir, 'whole.stream.arrow');
    await write(path, 'stream', 20);
    const bytes = readFileSync(path);
    const cut = join(dir, 'cut.stream.arrow');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.55)));
    const r = await drain(readIpc, { paths: [cut], onError: 'fail' });
    expect(r.error).toBeInstanceOf(FlowError);
    const kept = r.rows.length;
    expect(kept).toBeGreaterThanOrEqual(40);
    expect(r.rows).toEqual(docs.slice(0, kept));
    expect((r.error as FlowError).location).toMatchObject({ file: cut, batch: kept / 20, row: kept });
    expect(r.error!.message).toMatch(/truncated IPC data/);
  });

  it('a file that is not Arrow IPC fails at validation with its name', () => {
    const path = join(dir, 'not.arrow');
    writeFileSync(path, docs[0]!.text);
    expect(() => readIpc.def.output(readIpc.def.config.parse({ paths: [path] }))).toThrow(
      /not\.arrow.*not a readable Arrow IPC/,
    );
  });
});
