// The sink of a clustered prep work item: tokenized documents (text kept) become the item output
// (item-output.ts): each document's exact-dedup key, taken from its text exactly as dedup/exact takes it
// (ExactKeys), then id, url, source and tokens. The file is written as batches arrive (memory: one
// batch), renamed into place when complete, then its completion record is written.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  makeData,
  makeVector,
  RecordBatch,
  Schema,
  type Data,
  type FixedSizeList,
  type TypeMap,
  type Uint32,
  type Utf8,
  type Vector,
} from 'apache-arrow';
import { FlowError } from '../../src/core/errors.ts';
import { z } from 'zod';
import { defineSink } from '../../src/core/operator.ts';
import { batchFromColumns } from '../../src/schema/build.ts';
import { ExactKeys, xxhashApi } from '../dedup/exact-key.ts';
import { tokensVector } from '../tokenize/tokens-column.ts';
import { itemFile, itemSchema, writeItemRecord } from './item-output.ts';
import { ShardOutput } from './shard-output.ts';

const Config = z.object({
  dir: z.string().min(1).describe('directory of the job’s item outputs'),
  index: z.number().int().min(0).describe('the item’s index (names its files)'),
  inputs: z.array(z.string().min(1)).min(1).describe('the input files the documents come from, in order (recorded)'),
  configHash: z.string().describe('hash of the settings that shape the output (recorded, checked on reuse)'),
  ids: z
    .boolean()
    .default(true)
    .describe('keep document ids (they name input files relative to the working directory); false: empty ids'),
  weights: z
    .array(z.number().int().min(0))
    .optional()
    .describe('each document’s reader batch weight, in order (unset: a reader whose batches end with the file)'),
  lowercase: z.boolean().default(true).describe('dedup key: lower-case (as dedup/exact)'),
  whitespace: z.boolean().default(true).describe('dedup key: collapse whitespace (as dedup/exact)'),
  punctuation: z.boolean().default(false).describe('dedup key: remove punctuation (as dedup/exact)'),
  seed: z.number().int().min(0).default(0).describe('dedup key: xxhash64 seed (as dedup/exact)'),
  numPerm: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('a job with near-dedup: keep each document’s minhash column (signatures of this length)'),
});

/** The batch's minhash signatures as a fresh column (no offsets, a validity bitmap only with nulls): the
 * item's bytes depend on the signatures alone, not on how the batch was sliced. */
function signatureColumn(col: Vector<FixedSizeList<Uint32>>, K: number, type: FixedSizeList<Uint32>) {
  const n = col.length;
  const d = col.data[0]!,
    child = d.children[0]!;
  const from = child.values as Uint32Array,
    base = d.offset * K + child.offset;
  const values = new Uint32Array(n * K);
  const valid = new Uint8Array((n + 7) >> 3);
  let nulls = 0;
  for (let r = 0; r < n; r++) {
    if (!col.isValid(r)) {
      nulls++;
      continue;
    }
    values.set(from.subarray(base + r * K, base + (r + 1) * K), r * K);
    valid[r >> 3]! |= 1 << (r & 7);
  }
  const kids = makeData({ type: type.children[0]!.type, length: n * K, data: values });
  return makeVector(makeData({ type, length: n, nullCount: nulls, nullBitmap: nulls > 0 ? valid : null, child: kids }));
}

export const writeItem = defineSink({
  id: 'shard/write-item',
  description: 'write a clustered prep work item: per document its exact-dedup key and tokens (atomic, verifiable)',
  config: Config,
  // tokenize's output with its text kept (id, text, url, source, tokens); checked when read
  input: () => new Schema<TypeMap>([]),
  make: (cfg, ctx) => {
    const schema = itemSchema(cfg.numPerm);
    const sigType = schema.fields.find((f) => f.name === 'minhash')?.type as FixedSizeList<Uint32> | undefined;
    mkdirSync(cfg.dir, { recursive: true });
    const path = join(cfg.dir, itemFile(cfg.index));
    const out = new ShardOutput(cfg.index, 0, path, { kind: 'ipc', compression: 'none', rowGroupRows: 1 }, false);
    let keys: ExactKeys | undefined;
    let docs = 0,
      bytesIn = 0,
      tokens = 0,
      wrote = false;
    const write = async (batch: RecordBatch): Promise<void> => {
      keys ??= new ExactKeys(cfg, await xxhashApi(), BigInt(cfg.seed));
      const n = batch.numRows;
      if (n === 0) return;
      const text = batch.getChild('text')!.data[0] as Data<Utf8>;
      const lo = new Uint32Array(n),
        hi = new Uint32Array(n);
      for (let r = 0; r < n; r++) {
        const key = keys.key(text, r);
        lo[r] = Number(key & 0xffffffffn);
        hi[r] = Number(key >> 32n);
      }
      bytesIn += text.valueOffsets[n]! - text.valueOffsets[0]!;
      const toks = batch.getChild('tokens')!;
      const t = toks.data[0]!;
      const count = t.valueOffsets[n]! - t.valueOffsets[0]!;
      const source = batch.getChild('source')!;
      const mh = batch.getChild('minhash') as Vector<FixedSizeList<Uint32>> | null;
      if (sigType && (!mh || mh.type.listSize !== cfg.numPerm))
        throw new FlowError(
          ctx.nodeId,
          `a near-dedup job's item needs a minhash column of ${cfg.numPerm} values per document (dedup/minhash/signature upstream)`,
          { field: 'minhash' },
        );
      const item = batchFromColumns(schema, {
        key_lo: lo,
        key_hi: hi,
        weight: cfg.weights ? Int32Array.from(cfg.weights.slice(docs, docs + n)) : new Int32Array(n).fill(-1),
        // the batch's last document ended a reader batch (tokenize keeps the reader's batches)
        cut: new Uint8Array(n).fill(0, 0, n - 1).fill(1, n - 1),
        id: cfg.ids ? batch.getChild('id')! : new Array<string>(n).fill(''),
        url: batch.getChild('url')!,
        source: Array.from({ length: n }, (_, r) => String(source.get(r))),
        tokens: makeVector(t),
        ...(sigType ? { minhash: signatureColumn(mh!, cfg.numPerm!, sigType) } : {}),
      });
      await out.write(item, count, 0);
      wrote = true;
      docs += n;
      tokens += count;
    };
    return {
      write,
      close: async (outcome) => {
        if (outcome === 'cancelled') {
          await out.abort();
          return [];
        }
        // an input without documents still gets an (empty) item file: the merge reads every index
        if (cfg.weights && cfg.weights.length < docs)
          throw new Error(
            `internal: ${cfg.weights.length} document weights computed for ${cfg.inputs.join(', ')} but the reader gave ${docs} ` +
              `documents`,
          );
        if (!wrote)
          await out.write(
            batchFromColumns(schema, {
              key_lo: new Uint32Array(0),
              key_hi: new Uint32Array(0),
              weight: new Int32Array(0),
              cut: new Uint8Array(0),
              id: [],
              url: [],
              source: [],
              tokens: tokensVector(new Int32Array(0), new Int32Array(1)),
              ...(sigType
                ? {
                    minhash: makeVector(
                      makeData({
                        type: sigType,
                        length: 0,
                        nullCount: 0,
                        child: makeData({ type: sigType.children[0]!.type, length: 0, data: new Uint32Array(0) }),
                      }),
                    ),
                  }
                : {}),
            }),
            0,
            0,
          );
        const { sha256, bytes } = await out.finish();
        await out.sync();
        await out.publish();
        await writeItemRecord(cfg.dir, {
          index: cfg.index,
          file: itemFile(cfg.index),
          inputs: cfg.inputs,
          configHash: cfg.configHash,
          sha256,
          bytes,
          docs,
          bytesIn,
          tokens,
        });
        return [path];
      },
      abort: () => out.abort(),
    };
  },
});
