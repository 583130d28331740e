// Data preparation as one streaming job: read documents, drop exact duplicates, normalise and tokenize
// on every core, pack into training rows of seqLen+1 tokens and write shards with a manifest.
// With no input it prepares the embedded corpus (State of the Union addresses and Moby-Dick by chapter).
// Run: flowlm prep (flags choose input, encoding, seqLen...), or flowlm run pipelines/prep-default.ts.
import { availableParallelism } from 'node:os';
import type { PrepOptions } from '../src/cli/prep-contract.ts';
import { pipeline, type PipelineSpecInput } from '../src/graph/spec.ts';
import { readText } from '../operators/ingest/read-text.ts';
import { exactDedup } from '../operators/dedup/exact.ts';
import { minhashDedup } from '../operators/dedup/minhash/filter.ts';
import { minhashSignatures } from '../operators/dedup/minhash/signature.ts';
import { decontaminate } from '../operators/eval/decontaminate.ts';
import { tokenize } from '../operators/tokenize/tokenize.ts';
import { packSequences } from '../operators/pack/pack-sequences.ts';
import { writeShards } from '../operators/shard/write-shards.ts';
import { mobyDickChapters, sotuTexts } from '../operators/ingest/embedded-corpus.ts';
import { readerSteps, type Step } from '../operators/ingest/reader-for.ts';

// Text per batch: small enough that every worker gets several batches of a small corpus and batches in
// flight stay a few MB, large enough that per-batch costs (messages to workers) do not show.
const BATCH_BYTES = 512 << 10;
// Packed rows per output batch: ~2 MB of ids. In 64-row batches (256 kB at seqLen 1024) a run spent
// ~15 ms more CPU per 12 MB of text in V8's helper threads, allocating and freeing 8x as many buffers.
const rowsPerBatch = (seqLen: number) => Math.max(1, Math.floor((2 << 20) / (4 * (seqLen + 1))));

export const PREP_DEFAULTS = { out: 'out/prep', encoding: 'cl100k', seqLen: 1024, format: 'ipc', dedup: true } as const;

export function prepSpec(options: PrepOptions = {}): PipelineSpecInput {
  const o = { ...PREP_DEFAULTS, workers: availableParallelism(), ...options };

  // 1. documents: the given inputs, or the embedded corpus (chapters only: the book's data.txt beside
  //    them is the same text once more)
  const read: Step[] = o.inputs?.length
    ? readerSteps(o.inputs, BATCH_BYTES)
    : [
        {
          id: 'read',
          op: readText,
          config: {
            paths: [sotuTexts(), mobyDickChapters()],
            unit: 'file',
            source: 'sotu+moby-dick',
            batchBytes: BATCH_BYTES,
          },
        },
      ];

  // 2. exact duplicates out before they cost tokenizing (compared lower-cased, whitespace collapsed)
  const dedup: Step[] = o.dedup ? [{ id: 'dedup', op: exactDedup, config: {} }] : [];

  // 2a. near duplicates (--near-dup THRESHOLD): MinHash signatures on the worker threads, then the LSH
  //     index on the main thread (first of each cluster kept); the signature column goes once used
  const near: Step[] =
    o.nearDup === undefined
      ? []
      : [
          { id: 'signature', op: minhashSignatures, workers: o.workers, config: {} },
          { id: 'near-dedup', op: minhashDedup, config: { threshold: o.nearDup, keepSignature: false } },
        ];

  // 2b. training documents sharing a word 13-gram with the named eval tasks: dropped (or flagged)
  //     before they cost tokenizing; on the main thread (one index, one report)
  const decontam: Step[] = o.decontaminate?.length
    ? [
        {
          id: 'decontaminate',
          op: decontaminate,
          config: {
            tasks: o.decontaminate,
            mode: o.decontaminateMode ?? 'drop',
            ...(o.decontaminateReport ? { report: o.decontaminateReport } : {}),
          },
        },
      ]
    : [];

  // 3. tokens, on the worker threads: tokenizing is the bottleneck. Normalising (NFC, control
  //    characters, whitespace: what clean/normalize does) is the tokenizer's pre-tokenisation step here,
  //    run on each worker on the text it decodes anyway; as a pass of its own it cost a decode, an encode
  //    and a copy per document on the main thread, and the run half its speed. <|endoftext|> ends each
  //    document.
  const normalise = { form: 'NFC', controls: true, whitespace: true, eos: true } as const;
  const tokens: Step = {
    id: 'tokenize',
    op: tokenize,
    workers: o.workers,
    // a tokenizer file (--tokenizer) replaces the encoding; its own end token ends each document
    config: { ...(o.tokenizer ? { tokenizer: o.tokenizer } : { encoding: o.encoding }), ...normalise },
  };

  // 4. rows and shards: Arrow IPC packed rows of seqLen+1 tokens (readShards streams them), or Parquet
  //    tables of each document's tokens. The manifest records how the ids were made.
  const shards = {
    dir: o.out,
    format: o.format,
    encoding: o.tokenizer ?? o.encoding,
    meta: { pipeline: 'prep-default', tokenizer: normalise },
    ...(o.shardBytes ? { shardBytes: o.shardBytes } : {}),
  };
  const write: Step[] =
    o.format === 'ipc'
      ? [
          { id: 'pack', op: packSequences, config: { seqLen: o.seqLen, rowsPerBatch: rowsPerBatch(o.seqLen) } },
          { id: 'write', op: writeShards, config: { ...shards, seqLen: o.seqLen } },
        ]
      : [{ id: 'write', op: writeShards, config: shards }];

  return pipeline({
    name: 'prep',
    budget: { maxInFlight: 8 },
    steps: [...read, ...dedup, ...near, ...decontam, tokens, ...write],
  });
}

export default prepSpec();
