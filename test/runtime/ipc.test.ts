import { readFileSync } from 'node:fs';
import {
  DataType,
  Dictionary,
  Int32,
  List,
  Field,
  RecordBatch,
  Schema,
  Table,
  Utf8,
  tableToIPC,
  vectorFromArray,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { applyDelta, diffBatch, packBatch, packedBytes, transferList, unpackBatch } from '../../src/runtime/ipc.ts';
import { batchFromColumns, docSchema, withColumns } from '../../src/schema/index.ts';
import { KERNEL_STATS_KEY, withKernelStats } from '../../src/core/kernel-stats.ts';
import { expandGlobs } from '../../src/runtime/files.ts';
import { sotuTexts } from '../../operators/ingest/embedded-corpus.ts';
import { readText } from '../../operators/ingest/read-text.ts';
import { makeContext } from '../../src/core/context.ts';

const rowsOf = (b: { toArray(): Array<{ toJSON(): unknown }> }) => b.toArray().map((r) => r.toJSON());

async function sotuBatch() {
  const files = (await expandGlobs([sotuTexts()])).slice(0, 12);
  const texts = files.map((f) => readFileSync(f, 'utf8'));
  return batchFromColumns(docSchema(), {
    id: files.map((_, i) => `doc${i}`),
    text: texts,
    url: files.map((f, i) => (i % 3 === 0 ? null : `file://${f}`)),
    source: files.map((_, i) => (i % 2 ? 'sotu' : 'speech')),
  });
}

describe('batches between threads', () => {
  it('round-trips a batch with nulls and a dictionary column through one transferred ArrayBuffer', async () => {
    const batch = await sotuBatch();
    const packed = packBatch(batch);
    expect(transferList(packed)).toEqual([packed.body]);
    expect(packed.body.byteLength).toBeGreaterThan(batch.getChild('text')!.data[0]!.values.byteLength);
    // what postMessage does to it: the body is moved, the rest cloned
    const moved = structuredClone(packed, { transfer: transferList(packed) });
    expect(packed.body.byteLength).toBe(0);
    const back = unpackBatch(moved);
    expect(back.schema.fields.map((f) => `${f.name}:${f.type}:${f.nullable}`)).toEqual(
      batch.schema.fields.map((f) => `${f.name}:${f.type}:${f.nullable}`),
    );
    expect(rowsOf(back)).toEqual(rowsOf(batch));
    // reading makes views into the transferred buffer rather than copies
    expect(back.getChild('text')!.data[0]!.values.buffer).toBe(moved.body);
  });

  it('sends a column in shared memory as the shared buffer itself, not a copy', async () => {
    // a run with worker stages tells its readers so (ctx.threaded)
    const read = readText.def.make(
      readText.def.config.parse({ paths: [sotuTexts()], batchRows: 8 }),
      makeContext('read', { threaded: true }),
    );
    const batches: RecordBatch[] = [];
    for await (const b of read) batches.push(b);
    const batch = batches[1]!;
    const text = batch.getChild('text')!.data[0]!.values;
    expect(text.buffer).toBeInstanceOf(SharedArrayBuffer); // readers put documents' text there
    const packed = packBatch(batch);
    expect(packed.shared).toEqual([text.buffer]);
    expect(packed.body.byteLength).toBeLessThan(text.byteLength / 10); // offsets, ids: not the text
    // what pacing counts: the batch's view of the buffer (a slab several batches are cut from), not all of it
    expect(packed.sharedBytes).toBe(text.byteLength);
    expect(packedBytes(packed)).toBe(packed.body.byteLength + text.byteLength);
    expect(text.buffer.byteLength).toBeGreaterThan(text.byteLength);
    const back = unpackBatch(structuredClone(packed, { transfer: transferList(packed) }));
    expect(rowsOf(back)).toEqual(rowsOf(batch));
    // the same memory on both sides: a structured clone of a SharedArrayBuffer shares it
    const seen = back.getChild('text')!.data[0]!.values;
    expect(seen.buffer).toBeInstanceOf(SharedArrayBuffer);
    const before = seen[0]!;
    text[0] = before ^ 1;
    expect(seen[0]).toBe(before ^ 1);
    text[0] = before;
  });

  it('round-trips a sliced batch and a list column (token ids) with nulls', async () => {
    const batch = await sotuBatch();
    const lists = Array.from({ length: batch.numRows }, (_, i) =>
      i % 4 === 1 ? null : Array.from({ length: i * 3 }, (_, k) => k * i),
    );
    const tokens = vectorFromArray(lists, new List(new Field('item', new Int32(), false)));
    const full = withColumns(batch, { tokens });
    const part = full.slice(3, 10); // offsets into shared buffers, a validity bitmap that starts mid-byte
    expect(part.data.children[0]!.offset).toBe(3);
    const back = unpackBatch(structuredClone(packBatch(part)));
    expect(rowsOf(back.selectAt([0, 1, 2, 3]))).toEqual(rowsOf(part.selectAt([0, 1, 2, 3])));
    expect([...back.getChild('tokens')!].map((v) => (v ? [...v] : null))).toEqual(lists.slice(3, 10));
  });

  it('ships only the columns a kernel changed and rebuilds the output from the input', async () => {
    const input = await sotuBatch();
    const upper = vectorFromArray(
      [...input.getChild('text')!].map((t) => t?.toUpperCase() ?? null),
      new Utf8(),
    );
    const output = withColumns(input, { text: upper, shout: upper });
    const delta = diffBatch(input, output);
    expect(delta.layout).toEqual([0, -1, 2, 3, -2]);
    const rebuilt = applyDelta(input, delta);
    expect(rowsOf(rebuilt)).toEqual(rowsOf(output));
    expect(rebuilt.schema.names).toEqual(output.schema.names);
    // untouched columns are the input's own buffers, not copies
    expect(rebuilt.getChild('id')!.data[0]).toBe(input.getChild('id')!.data[0]);
    expect(applyDelta(input, diffBatch(input, input))).toBe(input);
  });

  it("gives a dictionary column made on another thread a fresh id, so it can sit beside the input's own", async () => {
    const batch = await sotuBatch();
    const sourceType = batch.schema.fields.find((f) => f.name === 'source')!.type as Dictionary;
    // a worker numbers its dictionaries from its own counter: simulate a clash with the input's id
    const clash = new Dictionary(new Utf8(), new Int32(), sourceType.id);
    const lang = vectorFromArray(
      Array.from({ length: batch.numRows }, (_, i) => (i % 2 ? 'en' : 'fr')),
      clash,
    );
    // what a worker ships back: only its new column, under its own schema
    const shipped = new Table({ lang }).batches[0]!;
    const merged = applyDelta(batch, { layout: [0, 1, 2, 3, -1], packed: packBatch(shipped) });
    const ids = merged.schema.fields.filter((f) => DataType.isDictionary(f.type)).map((f) => (f.type as Dictionary).id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(() => tableToIPC(new Table(merged))).not.toThrow();
    expect([...merged.getChild('lang')!]).toEqual([...lang]);
  });

  it("sends a batch's schema metadata with it while the fields are encoded once, and keeps field differences apart", async () => {
    const batch = await sotuBatch();
    const a = withKernelStats(batch, { counters: { tokens: 11 } });
    const b = withKernelStats(batch, { counters: { tokens: 22 } });
    const [pa, pb] = [packBatch(a), packBatch(b)];
    expect(pa.schema).toBe(pb.schema); // Arrow gives every batch new Field objects: the encoding is still reused
    const [ua, ub] = [unpackBatch(structuredClone(pa)), unpackBatch(structuredClone(pb))];
    expect(JSON.parse(ua.schema.metadata.get(KERNEL_STATS_KEY)!)).toEqual({ counters: { tokens: 11 } });
    expect(JSON.parse(ub.schema.metadata.get(KERNEL_STATS_KEY)!)).toEqual({ counters: { tokens: 22 } });
    // each batch owns its metadata (recordKernelStats deletes the key in place)
    ua.schema.metadata.delete(KERNEL_STATS_KEY);
    expect(ub.schema.metadata.has(KERNEL_STATS_KEY)).toBe(true);
    expect(unpackBatch(packBatch(batch)).schema.metadata.size).toBe(0);
    // same types, other nullability or field metadata: another encoding, read back as sent
    const fields = batch.schema.fields.map((f, i) =>
      i === 0 ? new Field(f.name, f.type, !f.nullable, new Map([['note', 'x']])) : f,
    );
    const other = unpackBatch(packBatch(new RecordBatch(new Schema(fields), batch.data)));
    expect(other.schema.fields[0]!.nullable).toBe(!batch.schema.fields[0]!.nullable);
    expect(other.schema.fields[0]!.metadata.get('note')).toBe('x');
    expect(rowsOf(other)).toEqual(rowsOf(batch));
  });
});
