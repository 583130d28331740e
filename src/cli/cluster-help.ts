// Help of the clustered commands: `flowlm prep --cluster`, `flowlm worker` and `flowlm cluster status`,
// and the flags prep takes for a clustered run (here, so prep-command.ts does not load the NATS client).

/** The flags `flowlm prep` takes for a clustered run. */
export const PREP_CLUSTER_OPTIONS = {
  cluster: { type: 'string' },
  job: { type: 'string' },
  'ack-wait': { type: 'string' },
  'max-deliver': { type: 'string' },
  'max-ack-pending': { type: 'string' },
  'dedup-partitions': { type: 'string' },
  'item-bytes': { type: 'string' },
} as const;

export const PREP_CLUSTER_HELP = `Options of flowlm prep --cluster (data preparation across processes and machines, NATS JetStream):
      --cluster URL            nats://HOST:PORT of a nats-server -js: this process coordinates (plans work
                               items of input files, publishes them, waits, merges); flowlm worker processes on
                               any machine run the items. Inputs and --out must be on storage every worker sees.
                               The result is byte-identical to flowlm prep without --cluster.
      --job NAME               the job's name (default: a hash of the options and inputs, so re-running the
                               same command resumes the same job and skips items already done)
      --ack-wait S             seconds an item may go without a heartbeat before it is redelivered (default 30)
      --max-deliver N          deliveries of an item before it is parked with its error (default 5)
      --max-ack-pending N      items out with workers at once, over all machines (default 64)
      --dedup-partitions P     exact dedup as P work items run after the input items, keys split by hash: each
                               holds ~16 B per distinct document / P; the merge holds only the duplicates
                               (default 1: the merge holds every distinct key, ~16 B each). With --near-dup each
                               also takes 1/P of the LSH band keys (~16 B x bands / P per document, plus the
                               job's exact keys) and lists candidate pairs the merge checks. Same bytes either way
                               (refused with a dedup that forgets: onFull 'evict')
      --item-bytes N           a work item's input size: consecutive small files (plain text, JSON Lines) are
                               grouped up to N bytes (k, M, G suffixes; default 4M; the input's last N bytes
                               up to N/4, so workers finish together); a larger file, or one of another
                               format, is an item of its own. Same bytes whatever N
  Tokenizer threads per worker process: --workers (default: every core). On a machine of C cores, C worker
  processes with --workers 0 (each tokenizing on its own main thread) go fastest: no batch crosses to a
  thread and back. A pipeline file exporting prepSpec(options) (flowlm prep FILE --cluster, or flowlm run FILE
  --cluster) and --set node.key=value apply to every process: workers load the file by its path (on shared
  storage) and end with the same bytes as flowlm prep FILE --set ... in one process. The pipeline must keep
  prep's shape (readers, dedup/exact, the MinHash pair, tokenize, pack, write-shards into --out). Not with
  --decontaminate or a URL to crawl. Progress on stderr
  every 2 s (items done, pending, failures, parked, MB/s per worker); with --json one line at the end:
  {"ok","job","items","skipped","durationMs","documents","duplicates","tokens","shards","rows","mb","mbPerS",
  "nearDuplicates","tokensPerS","peakRssMb","manifest","failures","duplicateResults","dedupPartitions",
  "workers":[{"worker","items","mbPerS"}],"phasesMs":{"plan","items","dedup","merge"},
  "parked":[{"index","path","error"}]}. Exit 1 when an item is parked (each named on stderr with its error;
  nothing is merged).`;

export function workerHelp(): string {
  return `Usage: flowlm worker --cluster nats://HOST:PORT [--job NAME] [--workers N] [--idle-exit S] [--max-items N] [--json]

Runs work items of clustered data preparation (flowlm prep --cluster) pulled from NATS JetStream. An item's
output is written atomically and acked only once durable; a worker that dies has its item redelivered
after ack_wait; a redelivered item whose output already verifies is skipped.

Options:
      --cluster URL            the NATS server (nats://HOST:PORT; several comma-separated)
      --job NAME               only this job, and exit once it has nothing left to deliver (default: every
                               running job in the jobs bucket, until --idle-exit or --max-items)
      --workers N              items this process runs at once (default 1); they share the process's
                               tokenizer threads, as many as the job's prep --workers
      --idle-exit S            exit after S seconds without an item
      --max-items N            exit after N items
      --json                   one JSON line at the end: {"worker","items","failures"}
  -h, --help                   show help

Exit codes: 0 done, 1 failed (the message says why), 2 bad usage.`;
}

export function clusterHelp(): string {
  return `Usage: flowlm cluster status --cluster nats://HOST:PORT [--job NAME] [--json]

Shows the jobs of clustered data preparation and, per job, its items: total, done, pending (not yet
delivered), out with workers (ack pending), redelivered, failures, parked (with their errors), and the
MB/s of each worker over the items it completed.

Options:
      --cluster URL            the NATS server
      --job NAME               only this job
      --json                   one JSON line: {"jobs":[{"job","state","total","done","pending","ackPending",
                               "redelivered","failures","parked":[{"index","error"}],"workers":[...]}]}
  -h, --help                   show help`;
}
