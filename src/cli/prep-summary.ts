// What `flowlm prep` adds to a run's report: documents and tokens through the tokenizer, the shards
// and manifest written, throughput and peak memory. Operators are found by id (src/ never imports
// them) and the manifest is read as plain JSON.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { ResolvedPipeline } from '../graph/validate.ts';
import type { RunResult } from '../runtime/run.ts';
import { bytes, count } from './format.ts';
import type { RunReport } from './run-command.ts';
import { peakRssMb } from '../runtime/peak-rss.ts';

const TOKENIZE = 'tokenize/tokenize';
const WRITE_SHARDS = 'shard/write-shards';
const DECONTAMINATE = 'eval/decontaminate';

export interface PrepFigures {
  documents: number;
  tokens: number;
  shards: number;
  /** rows stored in the shards (packed rows, or documents in a token table) */
  rows: number;
  /** tokens stored in the shards (packed rows hold seqLen+1 each; the tail that fills no row is dropped) */
  tokensStored: number;
  /** input read by the sources, in MB (10^6 bytes) */
  mb: number;
  mbPerS: number;
  tokensPerS: number;
  /** the process's peak resident set (all threads), MiB */
  peakRssMb: number;
  manifest: string | null;
  /** with --decontaminate: training documents found sharing an n-gram with the eval tasks, and those
   * dropped (all of them in drop mode, none in flag mode) */
  decontamination?: { contaminated: number; dropped: number };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** rows, tokens and shard count of a completed manifest.json (zeros when unreadable) */
function manifestFacts(path: string | null): { rows: number; tokens: number; shards: number } {
  if (!path || !existsSync(path)) return { rows: 0, tokens: 0, shards: 0 };
  try {
    const m: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (!isObj(m)) return { rows: 0, tokens: 0, shards: 0 };
    return { rows: num(m.rows), tokens: num(m.tokens), shards: Array.isArray(m.shards) ? m.shards.length : 0 };
  } catch {
    return { rows: 0, tokens: 0, shards: 0 };
  }
}

export function prepFigures(p: ResolvedPipeline, r: RunResult): PrepFigures {
  const idsOf = (op: string) => [...p.nodes.values()].filter((n) => n.def.id === op).map((n) => n.id);
  const tokenizers = idsOf(TOKENIZE)
    .map((id) => r.nodes[id])
    .filter((s) => s !== undefined);
  const writers = new Set(idsOf(WRITE_SHARDS));
  const files = r.sinks.filter((s) => writers.has(s.node)).flatMap((s) => s.files);
  const manifest = files.find((f) => basename(f) === 'manifest.json') ?? null;
  const facts = manifestFacts(manifest);
  const sourceBytes = [...p.nodes.values()]
    .filter((n) => n.def.kind === 'source')
    .reduce((sum, n) => sum + (r.nodes[n.id]?.bytesOut ?? 0), 0);
  const seconds = Math.max(r.durationMs, 1) / 1000;
  const tokens =
    tokenizers.length > 0 ? tokenizers.reduce((sum, s) => sum + (s.counters?.tokens ?? 0), 0) : facts.tokens;
  const documents = tokenizers.length > 0 ? tokenizers.reduce((sum, s) => sum + s.rowsOut, 0) : facts.rows;
  const decontaminators = idsOf(DECONTAMINATE)
    .map((id) => r.nodes[id])
    .filter((s) => s !== undefined);
  const dropped = decontaminators.reduce((sum, s) => sum + (s.dropReasons['eval_contamination'] ?? 0), 0);
  const flagged = decontaminators.reduce((sum, s) => sum + (s.counters?.contaminated ?? 0), 0);
  return {
    documents,
    tokens,
    shards: facts.shards,
    rows: facts.rows,
    tokensStored: facts.tokens,
    mb: round(sourceBytes / 1e6, 3),
    mbPerS: round(sourceBytes / 1e6 / seconds, 2),
    tokensPerS: Math.round(tokens / seconds),
    peakRssMb: round(peakRssMb(), 1),
    manifest,
    ...(decontaminators.length > 0 ? { decontamination: { contaminated: dropped + flagged, dropped } } : {}),
  };
}

export const prepReport: RunReport = {
  json: (p, r) => ({ ...prepFigures(p, r) }),
  human(p, r) {
    const f = prepFigures(p, r);
    const where = f.manifest ? ` in ${dirname(f.manifest)}` : '';
    return (
      `prepared ${count(f.documents)} documents, ${count(f.tokens)} tokens: ${count(f.shards)} shard${f.shards === 1 ? '' : 's'} of ${count(f.rows)} rows${where}\n` +
      `${bytes(f.mb * 1e6)} read at ${f.mbPerS} MB/s, ${count(f.tokensPerS)} tokens/s, peak RSS ${f.peakRssMb} MiB` +
      (f.decontamination
        ? `\n${count(f.decontamination.contaminated)} documents share an n-gram with the eval tasks, ` +
          `${count(f.decontamination.dropped)} dropped`
        : '')
    );
  },
};
