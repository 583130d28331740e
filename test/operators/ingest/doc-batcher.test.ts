// DocBatcher builds Doc batches without Arrow's builders: they must hold what batchFromColumns makes
// from the same rows (nulls, a dictionary of several values, non-ASCII text given as bytes or strings,
// or put in place by the reader).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DocBatcher } from '../../../operators/ingest/doc-batcher.ts';
import { batchFromColumns, docSchema } from '../../../src/schema/index.ts';
import { mobyFiles } from './helpers.ts';

describe('ingest/doc-batcher', () => {
  it.each([false, true])(
    'gives the batch batchFromColumns gives for the same documents, full by rows or by weight (shared memory: %s)',
    async (shared) => {
      const texts = (await mobyFiles()).slice(0, 9).map((f) => readFileSync(f, 'utf8'));
      texts.push('çà et là — “ünïcödé” 😀', '');
      const rows = texts.map((t, i) => ({
        id: `doc-${i}-é`,
        text: t,
        url: i % 3 === 0 ? null : `file:///moby/${i}`,
        source: i % 4 === 1 ? 'moby' : 'text',
      }));
      const batcher = new DocBatcher(docSchema(), { batchRows: 4, batchBytes: 30_000 }, shared);
      const got = [];
      let from = 0;
      const want = [];
      for (const [i, r] of rows.entries()) {
        // the text as a string, as bytes to copy, or as bytes put in the room reserve() gave (at its
        // start, or further in: what a reader does that trims the front of what it read)
        let text: string | Uint8Array = i % 3 === 0 ? r.text : Buffer.from(r.text);
        if (i % 3 === 2) {
          const skip = i % 2 ? 0 : 3,
            room = batcher.reserve(text.length + skip);
          room.set(text as Uint8Array, skip);
          text = room.subarray(skip, skip + text.length);
        }
        batcher.push({ ...r, text }, Buffer.byteLength(r.text));
        if (batcher.full || i === rows.length - 1) {
          got.push(batcher.flush());
          const part = rows.slice(from, i + 1);
          from = i + 1;
          want.push(
            batchFromColumns(docSchema(), {
              id: part.map((p) => p.id),
              text: part.map((p) => p.text),
              url: part.map((p) => p.url),
              source: part.map((p) => p.source),
            }),
          );
        }
      }
      expect(got.length).toBeGreaterThan(2);
      expect(got.map((b) => b.numRows)).toEqual(want.map((b) => b.numRows));
      expect(got.map((b) => b.toArray().map((r) => r.toJSON()))).toEqual(
        want.map((b) => b.toArray().map((r) => r.toJSON())),
      );
      expect(got.every((b) => b.schema.fields.map(String).join() === docSchema().fields.map(String).join())).toBe(true);
      expect(got[0]!.getChild('url')!.nullCount).toBe(want[0]!.getChild('url')!.nullCount);
      expect(batcher.size).toBe(0);
      // shared: the batches' text in shared memory, cut from buffers several batches share (a document
      // pushed later did not overwrite an earlier batch, as the comparison above shows; here: no two
      // batches' bytes overlap)
      const views = got.map((b) => b.getChild('text')!.data[0]!.values);
      for (const v of views) expect(v.buffer instanceof SharedArrayBuffer).toBe(shared);
      if (shared) {
        expect(new Set(views.map((v) => v.buffer)).size).toBeLessThan(got.length);
        for (const [i, a] of views.entries())
          for (const b of views.slice(i + 1))
            if (a.buffer === b.buffer)
              expect(a.byteOffset + a.byteLength <= b.byteOffset || b.byteOffset + b.byteLength <= a.byteOffset).toBe(
                true,
              );
      }
    },
  );
});
