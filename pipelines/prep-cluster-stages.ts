// The stages of a clustered prep job, cut from prepSpec(options) itself (so reader, tokenizer, packing and
// writer configs cannot drift apart from single-process prep), and what shapes an item's bytes.
import { resolve } from 'node:path';
import type { PrepOptions } from '../src/cli/prep-contract.ts';
import { defOf, parseConfig, type AnyFactory } from '../src/core/operator.ts';
import { exactDedup } from '../operators/dedup/exact.ts';
import { resolveBanding } from '../operators/dedup/minhash/config.ts';
import { minhashDedup } from '../operators/dedup/minhash/filter.ts';
import { minhashSignatures } from '../operators/dedup/minhash/signature.ts';
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
  const sig = at('signature');
  const read = steps.slice(
    0,
    [dedup, sig, tok].find((i) => i >= 0),
  );
  if (read[0]?.op === crawl)
    throw new Error('prep --cluster splits input files into work items; a URL to crawl is not a file: crawl first');
  const dedupCfg = parseConfig(exactDedup.def, dedup >= 0 ? steps[dedup]!.config : {});
  // Parquet shards keep each document's id, which names its file relative to the working directory;
  // packed rows do not, and without ids an item's bytes do not depend on where a worker runs
  const ids = (options.format ?? PREP_DEFAULTS.format) === 'parquet';
  return {
    read,
    tokenize: steps[tok]!,
    dedup: dedup >= 0,
    dedupCfg,
    ids,
    ...nearOf(steps, sig),
    write: steps.slice(tok + 1),
  };
}

/** Near-dedup split as the item/merge cut needs it: signatures computed in the items (the step itself, on
 * the worker's threads), the LSH index (the filter's settings, resolved) run by the merge in order. */
function nearOf(steps: Step[], sig: number) {
  if (sig < 0) return {};
  const filter = steps[sig + 1];
  if (filter?.op !== minhashDedup || steps[sig]!.op !== minhashSignatures)
    throw new Error('internal: prep near-dedup is a signature step followed by its filter');
  const sigCfg = parseConfig(minhashSignatures.def, steps[sig]!.config ?? {});
  const f = parseConfig(minhashDedup.def, { ...sigCfg, ...(filter.config as object) });
  const { bands, rows } = resolveBanding(f);
  const lsh = { numPerm: f.numPerm, bands, rows, threshold: f.threshold, verify: f.verify, maxDocs: f.maxDocs };
  return { signature: steps[sig]!, sigCfg, near: { ...lsh, onFull: f.onFull } };
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
      ...(s.sigCfg ? { minhash: s.sigCfg } : {}),
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
