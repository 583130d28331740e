// `flowlm prep --help`: how the flags build the pipeline, what each input kind reads, what is written.
import { RUN_OPTIONS_HELP } from './run-options-help.ts';
import { PREP_CLUSTER_HELP } from './cluster-help.ts';

export const PREP_USAGE = `flowlm prep [pipeline.ts] [--input FILES|GLOB|URL ...] [--out DIR] [--encoding E | --tokenizer FILE] [--seq-len N]
             [--workers N] [--format ipc|parquet] [--no-dedup] [--near-dup J] [--shard-bytes N]
             [--decontaminate TASKS] [--decontaminate-mode drop|flag] [--decontaminate-report FILE]
             [--set node.key=value ...] [--json]
             [--cluster nats://HOST:PORT [--job NAME] [--ack-wait S] [--max-deliver N] [--max-ack-pending N]]`;

export const PREP_OPTIONS_HELP = `Options of flowlm prep (building the pipeline):
  -i, --input X                a file, a quoted glob ('data/*.jsonl.gz') or an http(s) URL; repeatable (one kind
                               per run). The kind comes from the name: .jsonl/.ndjson(.gz) JSON Lines (field
                               "text"), .parquet, .arrow/.ipc Arrow IPC, .warc(.gz) WARC (HTML, text extracted),
                               http(s):// crawled from that seed (then extracted), anything else plain text (one
                               document per file, .gz read too). A glob that can match several kinds ('data/*')
                               reads each file with the reader of its kind, in file order (ingest/read-files).
                               None: the embedded corpus (State of the Union addresses 1790-2018 and Moby-Dick,
                               ~12 MB, public domain)
  -o, --out DIR                shards, their .done.json records and manifest.json (default out/prep)
      --encoding E             gpt2, r50k, p50k, cl100k (default) or o200k
      --tokenizer FILE         encode with a tokenizer file instead: a Hugging Face tokenizer.json, a
                               SentencePiece .model or a .tiktoken ranks file (its end token ends documents)
      --seq-len N              tokens per training row; rows hold N+1 (inputs and shifted labels; default 1024)
      --workers N              tokenizer threads (default: the cores of this machine; 0: main thread only)
      --format F               ipc (default): packed rows as Arrow IPC, streamed by readShards;
                               parquet: one row of token ids per document, no packing
      --no-dedup               keep exact duplicates (default: dropped before tokenizing)
      --near-dup J             also drop near duplicates, after exact dedup: documents whose Jaccard similarity
                               (word 5-grams, estimated from 128 MinHash values) with an earlier one is >= J,
                               0 < J < 1 (nodes signature on the worker threads, near-dedup: dedup/minhash/filter)
      --shard-bytes N          target shard size; k, M, G = KiB, MiB, GiB (default 64M)
      --decontaminate TASKS    eval tasks, comma-separated (names as flowlm eval --list shows, or task files):
                               training documents sharing a word 13-gram with one of their items (lower-cased,
                               punctuation as spaces; items under 13 words matched whole) are dropped after
                               dedup, before tokenizing (node decontaminate, operator eval/decontaminate)
      --decontaminate-mode M   drop (default) or flag: keep contaminated documents, only count and report them
      --decontaminate-report F JSON report: per task the contaminated items (document indices) and the training
                               documents that hit them
  With a pipeline file these flags go to its prepSpec(options) export; a file without one takes --set only.
  --set applies to the built pipeline's nodes: read, dedup, signature and near-dedup (with --near-dup),
  decontaminate (with --decontaminate), tokenize, pack, write (flowlm ops describes them).`;

export function prepHelp(): string {
  return `Usage: ${PREP_USAGE}

Runs data preparation alone: read, normalise (NFC, whitespace), drop exact duplicates, tokenize on worker
threads, pack into rows of seq-len+1 tokens and write shards plus manifest.json. Writes are atomic and
deterministic: a run stopped at any moment (even by SIGKILL) and started again keeps the shards already
complete and verified, and ends byte-identical to an uninterrupted run.

${PREP_OPTIONS_HELP}

${RUN_OPTIONS_HELP.replace('Options of flowlm run:', 'Options shared with flowlm run:')}

${PREP_CLUSTER_HELP}

Output: progress on stderr; on stdout the per-node table and a summary, or with --json one object as the last
line: {"ok","pipeline","durationMs","documents","tokens","shards","rows","tokensStored","mb","mbPerS",
"tokensPerS","peakRssMb","manifest","decontamination"?,"nodes":{...},"sinks":[...]} (nodes and sinks as in flowlm
run --help; decontamination: {"contaminated","dropped"} training documents, with --decontaminate).
Exit codes as flowlm run: 0 done, 1 failed, 2 bad usage or invalid pipeline, 130/143 cancelled.

Examples:
  flowlm prep                                      the embedded corpus, cl100k, rows of 1025 tokens -> out/prep
  flowlm prep --input 'data/*.jsonl.gz' --out out/web --encoding o200k --seq-len 2048 --json
  flowlm prep --input corpus.parquet --format parquet --set read.columns='["id","text"]'
  flowlm prep pipelines/prep-default.ts --seq-len 256 --workers 4
  flowlm prep --input '/shared/corpus/*.txt' --out /shared/out --cluster nats://10.0.0.5:4222   (+ flowlm worker)
  flowlm prep my-prep.ts --set write.dir=out/mine
  flowlm prep --decontaminate lambada-moby-sotu,heldout-perplexity --json`;
}
