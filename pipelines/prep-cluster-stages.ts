// The stages of a clustered prep job, cut from prepSpec(options) itself (so reader, tokenizer, packing and
// writer configs cannot drift apart from single-process prep), and what shapes an item's bytes.
import { resolve } from 'node:path';
import type { PrepOptions } from '../src/cli/prep-contract.ts';
import { defOf, parseConfig, type AnyFactory } from '../src/core/operator.ts';
import { exactDedup } from '../operators/dedup/exact.ts';
import { crawl } from '../operators/ingest/crawl.ts';
import { canonicalJson, sha256Hex } from '../operators/shard/manifest.ts';
import { PREP_DEFAULTS, prepSpec } from './prep-default.ts';
import type { Step } from './prep-cluster-read.ts';

/** The job's prep spec cut at its stages: reader steps, tokenize, pack and write. */
export function stages(options: PrepOptions) {
  if (options.decontaminate?.length)
    throw new Error(
      'prep --cluster cannot decontaminate (its n-gram index sees every document on one thread): run `flowlm prep ' +
        '--decontaminate` in one process, or decontaminate the shards afterwards',
    );
  const steps = (prepSpec(options).steps ?? []) as Step[];
  const at = (id: string) => steps.findIndex((s) => s.id === id);
  const tok = at('tokenize');
  const dedup = at('dedup');
  const read = steps.slice(0, dedup >= 0 ? dedup : tok);
  if (read[0]?.op === crawl)
    throw new Error('prep --cluster splits input files into work items; a URL to crawl is not a file: crawl first');
  const dedupCfg = parseConfig(exactDedup.def, dedup >= 0 ? steps[dedup]!.config : {});
  // Parquet shards keep each document's id, which names its file relative to the working directory;
  // packed rows do not, and without ids an item's bytes do not depend on where a worker runs
  const ids = (options.format ?? PREP_DEFAULTS.format) === 'parquet';
  return { read, tokenize: steps[tok]!, dedup: dedup >= 0, dedupCfg, ids, write: steps.slice(tok + 1) };
}

const opId = (op: Step['op']) => (typeof op === 'string' ? op : defOf(op as AnyFactory).id);

/** What shapes an item's bytes: its reader and tokenizer configs (paths aside) and the dedup key. */
export function configHash(s: ReturnType<typeof stages>): string {
  const { lowercase, whitespace, punctuation, seed } = s.dedupCfg;
  const { paths: _paths, ...readCfg } = (s.read[0]!.config ?? {}) as Record<string, unknown>;
  return sha256Hex(
    canonicalJson({
      item: 1,
      read: [{ op: opId(s.read[0]!.op), config: readCfg }, ...s.read.slice(1).map((r) => opId(r.op))],
      tokenize: s.tokenize.config,
      key: { lowercase, whitespace, punctuation, seed },
      ids: s.ids ? process.cwd() : null,
    }),
  );
}

export const outDir = (options: PrepOptions) => resolve(options.out ?? PREP_DEFAULTS.out);

/** The dedup key settings write-item takes (as dedup/exact's). */
export const pick = ({ lowercase, whitespace, punctuation, seed }: ReturnType<typeof stages>['dedupCfg']) => ({
  lowercase,
  whitespace,
  punctuation,
  seed,
});
