// The stages of a clustered prep job, cut from prepSpec(options) itself (so reader, tokenizer, packing and
// writer configs cannot drift apart from single-process prep), and what shapes an item's bytes.
import { resolve } from 'node:path';
import { loadPrepBuilder, type PrepBuilder, type PrepOptions } from '../src/cli/prep-contract.ts';
import { ClusterJobError } from '../src/cli/prep-cluster-contract.ts';
import type { PipelineSpecInput } from '../src/graph/spec.ts';
import { applyOverrides } from '../src/graph/load.ts';
import { decontaminate } from '../operators/eval/decontaminate.ts';
import { writeShards } from '../operators/shard/write-shards.ts';
import { defOf, parseConfig, type AnyFactory } from '../src/core/operator.ts';
import { exactDedup } from '../operators/dedup/exact.ts';
import { resolveBanding } from '../operators/dedup/minhash/config.ts';
import { minhashDedup } from '../operators/dedup/minhash/filter.ts';
import { minhashSignatures } from '../operators/dedup/minhash/signature.ts';
import { crawl } from '../operators/ingest/crawl.ts';
import { canonicalJson, sha256Hex } from '../operators/shard/manifest.ts';
import { PREP_DEFAULTS, prepSpec } from './prep-default.ts';
import type { Step } from './prep-cluster-read.ts';

const builders = new Map<string, Promise<PrepBuilder>>();

/** The job's prep spec: its pipeline module's prepSpec(options) (default prep-default.ts's), --set applied. */
export async function jobSpec(options: PrepOptions): Promise<PipelineSpecInput> {
  let build: PrepBuilder = prepSpec;
  if (options.pipeline) {
    let b = builders.get(options.pipeline);
    if (!b) builders.set(options.pipeline, (b = loadPrepBuilder(options.pipeline)));
    build = await b;
  }
  const { spec, issues } = applyOverrides(build(options), options.sets ?? []);
  if (issues.length > 0)
    throw new ClusterJobError(`prep --cluster: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  return spec as PipelineSpecInput;
}

/** The job's prep spec cut at its stages: reader steps, tokenize, pack and write. */
export async function stagesOf(options: PrepOptions) {
  const steps = (await jobSpec(options)).steps as Step[];
  if (options.pipeline) sameShape(steps, (prepSpec(options).steps ?? []) as Step[], options.pipeline);
  return stages(options, steps);
}

/** A pipeline file's steps must be prep's own for these options (ids and operators in order; configs
 * may differ): the item/merge cut knows where each of them runs, and a step it does not know could be
 * left out or run in the wrong place. */
function sameShape(steps: Step[], prep: Step[], file: string): void {
  const shape = (x: Step[]) => x.map((st) => `${st.id} (${opId(st.op)})`);
  const [got, want] = [shape(steps), shape(prep)];
  const at = got.findIndex((g, i) => g !== want[i]);
  if (at >= 0 || got.length !== want.length)
    throw new ClusterJobError(
      `prep --cluster: ${file} builds the steps ${got.join(' -> ')}; a clustered run splits prep's own steps for ` +
        `these options (${want.join(' -> ')}): their configs may differ, not the steps`,
    );
}

function stages(options: PrepOptions, steps: Step[]) {
  if (options.decontaminate?.length || steps.some((s) => s.op === decontaminate))
    throw new ClusterJobError(
      'prep --cluster cannot decontaminate (its n-gram index sees every document on one thread): run `flowlm prep ' +
        '--decontaminate` in one process, or decontaminate the shards afterwards',
    );
  const at = (id: string) => steps.findIndex((s) => s.id === id);
  const tok = at('tokenize');
  const dedup = at('dedup');
  const sig = at('signature');
  const read = steps.slice(
    0,
    [dedup, sig, tok].find((i) => i >= 0),
  );
  if (read[0]?.op === crawl)
    throw new ClusterJobError(
      'prep --cluster splits input files into work items; a URL to crawl is not a file: crawl first',
    );
  const dedupCfg = parseConfig(exactDedup.def, dedup >= 0 ? steps[dedup]!.config : {});
  const write = steps.slice(tok + 1);
  const writeCfg = (write.at(-1)?.config ?? {}) as { dir?: string; format?: string };
  const out = resolve(options.out ?? PREP_DEFAULTS.out);
  if (write.at(-1)?.op !== writeShards || resolve(writeCfg.dir ?? '') !== out)
    throw new ClusterJobError(
      `prep --cluster: the pipeline must end with shard/write-shards writing to the job's --out directory (${out}); ` +
        `it ${write.at(-1)?.op === writeShards ? `writes to ${writeCfg.dir}: give that as --out instead of write.dir` : 'has no such step'}`,
    );
  // Parquet shards keep each document's id, which names its file relative to the working directory;
  // packed rows do not, and without ids an item's bytes do not depend on where a worker runs
  const ids = writeCfg.format === 'parquet';
  return {
    out,
    read,
    tokenize: steps[tok]!,
    dedup: dedup >= 0,
    dedupCfg,
    ids,
    ...nearOf(steps, sig),
    write,
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

export type Stages = ReturnType<typeof stages>;

/** What shapes an item's bytes: its reader and tokenizer configs (paths aside) and the dedup key. */
export function configHash(s: Stages): string {
  const { lowercase, whitespace, punctuation, seed } = s.dedupCfg;
  const { paths: _paths, ...readCfg } = (s.read[0]!.config ?? {}) as Record<string, unknown>;
  return sha256Hex(
    canonicalJson({
      item: 1,
      read: [
        { op: opId(s.read[0]!.op), config: readCfg },
        ...s.read.slice(1).map((r) => ({ op: opId(r.op), config: r.config ?? {} })),
      ],
      tokenize: s.tokenize.config,
      key: { lowercase, whitespace, punctuation, seed },
      ...(s.sigCfg ? { minhash: s.sigCfg } : {}),
      ids: s.ids ? process.cwd() : null,
    }),
  );
}

/** The dedup key settings write-item takes (as dedup/exact's). */
export const pick = ({ lowercase, whitespace, punctuation, seed }: Stages['dedupCfg']) => ({
  lowercase,
  whitespace,
  punctuation,
  seed,
});
