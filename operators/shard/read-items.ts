// The source of a clustered prep's merge: the item outputs (item-output.ts) read in item order, exact
// duplicates dropped across all of them (first occurrence wins, one SeenSet as dedup/exact holds: the
// same bound, ~16 bytes per distinct text, maxEntries of them), as Tokens batches (id, url, source,
// tokens) cut where one process's reader would have cut its batches (batchRows documents or
// batchBytes of weight, duplicates included, since dedup runs after the reader): shard boundaries
// depend on the batches the writer sees. Memory: one item file, one batch and the key set.
import { readFileSync } from 'node:fs';
import {
  Dictionary,
  makeData,
  makeVector,
  RecordBatch,
  Schema,
  tableFromIPC,
  Utf8,
  type Int32,
  type List,
  type Uint32,
  type Vector,
  vectorFromArray,
  type Data,
} from 'apache-arrow';
import { z } from 'zod';
import { FlowError } from '../../src/core/errors.ts';
import { defineSource } from '../../src/core/operator.ts';
import { batchFromColumns } from '../../src/schema/build.ts';
import { docSchema, type Tokens } from '../../src/schema/columns.ts';
import { DUPLICATE, SeenSet } from '../dedup/seen-set.ts';
import { tokensField, tokensVector } from '../tokenize/tokens-column.ts';

const Config = z.object({
  files: z.array(z.string().min(1)).describe('item files, in item order'),
  dedup: z.boolean().default(true).describe('drop documents whose key an earlier document had'),
  maxEntries: z.number().int().min(1).default(10_000_000).describe('distinct keys held (as dedup/exact)'),
  onFull: z.enum(['fail', 'evict']).default('fail').describe('at maxEntries: fail or forget the oldest half'),
  batchRows: z.number().int().min(1).default(256).describe("the reader's batchRows"),
  batchBytes: z
    .number()
    .int()
    .min(1)
    .default(8 << 20)
    .describe("the reader's batchBytes"),
});

/** Tokenize's output columns, as one process hands them to the writer. */
export const mergedSchema = (): Schema<Tokens> => {
  const doc = docSchema();
  const f = (name: string) => doc.fields.find((x) => x.name === name)!;
  return new Schema([f('id'), f('url'), f('source'), tokensField()]) as Schema<Tokens>;
};

const utf8 = (values: ReadonlyArray<string | null>): Vector<Utf8> => vectorFromArray(values, new Utf8());

/** A reader batch being replayed: every document pushed counts; only the kept ones go out. */
class Pending {
  rows = 0;
  weight = 0;
  ids: string[] = [];
  urls: Array<string | null> = [];
  sources: string[] = [];
  /** every source value pushed, in order of first appearance (the reader's dictionary) */
  distinct = new Map<string, number>();
  sourceIdx: number[] = [];
  toks: Int32Array[] = [];

  push(source: string, weight: number): void {
    this.rows++;
    if (weight > 0) this.weight += weight;
    if (!this.distinct.has(source)) this.distinct.set(source, this.distinct.size);
  }
  keep(id: string, url: string | null, source: string, tokens: Int32Array): void {
    this.ids.push(id);
    this.urls.push(url);
    this.sourceIdx.push(this.distinct.get(source)!);
    this.toks.push(tokens);
  }
  batch(schema: Schema<Tokens>): RecordBatch<Tokens> {
    const n = this.ids.length;
    const offsets = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i]! + this.toks[i]!.length;
    const ids = new Int32Array(offsets[n]!);
    this.toks.forEach((t, i) => ids.set(t, offsets[i]!));
    const type = schema.fields[2]!.type as Dictionary<Utf8, Int32>;
    const source = makeVector(
      makeData({
        type,
        length: n,
        nullCount: 0,
        data: Int32Array.from(this.sourceIdx),
        dictionary: utf8([...this.distinct.keys()]),
      }),
    );
    return batchFromColumns(schema, {
      id: utf8(this.ids),
      url: utf8(this.urls),
      source,
      tokens: tokensVector(ids, offsets),
    }) as RecordBatch<Tokens>;
  }
}

export const readItems = defineSource({
  id: 'shard/read-items',
  description:
    'read clustered prep item outputs in order, drop exact duplicates across them, as tokenized documents in the ' +
    'batches one process would have made',
  config: Config,
  output: () => mergedSchema(),
  async *make(cfg, ctx): AsyncGenerator<RecordBatch<Tokens>> {
    const schema = mergedSchema();
    const seen = cfg.dedup ? new SeenSet(cfg.maxEntries, cfg.onFull, {}) : undefined;
    let p = new Pending();
    for (const file of cfg.files) {
      let table;
      try {
        table = tableFromIPC(readFileSync(file));
      } catch (err) {
        throw new FlowError(ctx.nodeId, `cannot read item output (${(err as Error).message}); run the item again`, {
          file,
        });
      }
      for (const b of table.batches) {
        const lo = b.getChild('key_lo') as Vector<Uint32>,
          hi = b.getChild('key_hi') as Vector<Uint32>;
        const weight = b.getChild('weight')!,
          cut = b.getChild('cut')!,
          id = b.getChild('id')!,
          url = b.getChild('url')!,
          source = b.getChild('source')!;
        const toks = b.getChild('tokens')!.data[0]! as Data<List<Int32>>;
        const values = toks.children[0]!.values as Int32Array;
        for (let r = 0; r < b.numRows; r++) {
          const src = String(source.get(r));
          const w = Number(weight.get(r));
          p.push(src, w);
          const dup = seen?.check(Number(lo.get(r)), Number(hi.get(r)), 0) === DUPLICATE;
          if (dup) ctx.stats.drop('exact_duplicate');
          else
            p.keep(
              String(id.get(r)),
              (url.get(r) as string | null) ?? null,
              src,
              values.slice(toks.valueOffsets[r]!, toks.valueOffsets[r + 1]!),
            );
          if (w < 0 ? cut.get(r) === 1 : p.rows >= cfg.batchRows || p.weight >= cfg.batchBytes) {
            if (p.ids.length > 0) yield p.batch(schema);
            p = new Pending();
          }
        }
      }
    }
    if (p.ids.length > 0) yield p.batch(schema);
  },
});
