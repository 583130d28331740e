// Exact dedup: keeps the first document of each group whose normalised texts are equal (by 64-bit
// xxhash), drops the rest with reason `exact_duplicate`. The index is bounded (see seen-set.ts) and can
// be saved and restored (persist.ts). Rows without text pass through and are not indexed.
import type { RecordBatch, Utf8 } from 'apache-arrow';
import { Utf8 as Utf8Type } from 'apache-arrow';
import type { XXHashAPI } from 'xxhash-wasm';
import { z } from 'zod';
import { defineOperator } from '../../src/core/operator.ts';
import { runRows, type RowSpec } from '../../src/core/row-kernel.ts';
import { rowRejectsConfig } from '../../src/core/row-operator.ts';
import { schemaOf } from '../../src/schema/index.ts';
import { persistConfig, withIndex } from './persist.ts';
import { DUPLICATE, SeenSet } from './seen-set.ts';
import { ExactKeys, xxhashApi } from './exact-key.ts';

export { normalizeForExact, xxhashApi } from './exact-key.ts';

type Text = { text: Utf8 };

const Config = z.object({
  lowercase: z.boolean().default(true).describe('lower-case the text before hashing'),
  whitespace: z.boolean().default(true).describe('collapse runs of whitespace to one space and trim'),
  punctuation: z.boolean().default(false).describe('remove Unicode punctuation (\\p{P}) before hashing'),
  seed: z.number().int().min(0).default(0).describe('xxhash64 seed'),
  maxEntries: z.number().int().min(1).default(10_000_000).describe('distinct texts the index holds (~16 bytes each)'),
  onFull: z
    .enum(['fail', 'evict'])
    .default('fail')
    .describe('at maxEntries: stop with an error, or forget the oldest half'),
  ...persistConfig,
  ...rowRejectsConfig,
});
export type ExactConfig = z.output<typeof Config>;

const textSchema = () => schemaOf<Text>({ text: { type: new Utf8Type() } });

interface ExactIndex {
  set: SeenSet;
  h: XXHashAPI;
  save(p: string): Promise<void>;
  load(p: string): Promise<boolean>;
  describe(): string;
}

async function openIndex(cfg: ExactConfig): Promise<ExactIndex> {
  const { lowercase, whitespace, punctuation, seed, maxEntries, onFull } = cfg;
  const set = new SeenSet(maxEntries, onFull, { lowercase, whitespace, punctuation, seed, maxEntries, onFull });
  return {
    set,
    h: await xxhashApi(),
    save: (p) => set.save(p),
    load: (p) => set.load(p),
    describe: () => set.describe(),
  };
}

/** The verdicts of one index: a row's key is hashed from its UTF-8 bytes as they are (no string is
 * decoded), and a null text passes unindexed. */
function exactRows(cfg: ExactConfig, { set, h }: ExactIndex): RowSpec {
  const keys = new ExactKeys(cfg, h, BigInt(cfg.seed));
  return {
    read: 'none',
    nulls: 'keep',
    rejects: cfg.rejects,
    batch: (batch) => {
      const data = (batch as unknown as RecordBatch<Text>).getChild('text')!.data[0]!;
      const id = (batch as unknown as RecordBatch<{ id: Utf8 }>).getChild('id'); // optional: replay detection
      return (_, r) => {
        const key = keys.key(data, r);
        const idv = id?.get(r);
        const verdict = set.check(
          Number(key & 0xffffffffn),
          Number(key >> 32n),
          typeof idv === 'string' ? h.h32(idv) & 0x7fffffff || 1 : 0,
        );
        return verdict === DUPLICATE ? 'exact_duplicate' : true;
      };
    },
  };
}

export const exactDedup = defineOperator({
  id: 'dedup/exact',
  description: 'drop documents whose normalised text equals an earlier one (64-bit xxhash; bounded, resumable index)',
  config: Config,
  input: textSchema,
  passthrough: true,
  output: textSchema,
  make: (cfg, ctx) => {
    let current: { index: ExactIndex; spec: RowSpec } | undefined;
    return withIndex<ExactIndex, Text, Text>(
      () => openIndex(cfg),
      (index, batch) => {
        if (current?.index !== index) current = { index, spec: exactRows(cfg, index) };
        return runRows(current.spec, batch as unknown as RecordBatch) as unknown as RecordBatch<Text>;
      },
      { ctx, statePath: cfg.statePath, saveEvery: cfg.saveEvery },
    );
  },
});
