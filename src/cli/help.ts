// Help texts. `flowlm --help` gives the overview with every option; `flowlm run --help` adds the full
// spec format, output contract and the operators available.
import type { Registry } from '../graph/registry.ts';
import { pad } from './format.ts';
import { listOperators } from './ops-command.ts';
import { RUN_OPTIONS_HELP } from './run-options-help.ts';

export { RUN_OPTIONS_HELP };

const EXIT_CODES = `Exit codes:
  0         the run completed
  1         the run failed: the message names the node, its operator and the input (file, byte offset,
            row); also any internal error (FLOWLM_DEBUG=1 prints its stack)
  2         bad command line, or an invalid spec: every problem is listed with its path
  130, 143  cancelled by SIGINT (Ctrl-C) or SIGTERM: sources stop, in-flight batches finish, sinks keep
            only what they completed, one line reports it; a second signal exits at once`;

const EXAMPLES = `Examples:
  flowlm run pipelines/demo-data.ts
  flowlm run pipelines/demo-data.ts --set read.minChars=200 --set write.path=out/long.jsonl
  flowlm run prep.json --json --progress none | tail -n 1
  flowlm run prep.json --max-in-flight 4 --max-in-flight-bytes 64M
  flowlm prep --input 'data/*.jsonl.gz' --out out/web --encoding cl100k --seq-len 1024 --json
  flowlm ops`;

const SPEC_BRIEF = `Spec: a .ts/.js module whose default export (or export named "pipeline") is the spec, usually
\`export default pipeline({...})\`, or a .json file of the same shape: "nodes" (id -> {op, config,
workers?, budget?}) with "edges" ([from, to] pairs), or the linear shorthand "steps" (a list of nodes
with "id", each feeding the next); optional "name" and "budget". See flowlm run --help.`;

export function mainHelp(version: string): string {
  return `flowlm ${version}: LLM data prep and training as one typed dataflow program
(RxJS operators over Apache Arrow record batches).

Usage:
  flowlm run <spec.ts|spec.js|spec.json> [--set node.key=value ...] [--json]
             [--progress auto|bars|plain|none] [--max-in-flight N] [--max-in-flight-bytes N]
  flowlm prep [pipeline.ts] [--input FILES|GLOB|URL ...] [--out DIR] [--encoding E] [--seq-len N]
             [--workers N] [--format ipc|parquet] [--no-dedup] [--near-dup J] [--shard-bytes N] [run options]
  flowlm train <pipeline.ts> [--resume] [--set key=value ...] [--devices auto|cpu:N|gpu:all|gpu:0,1] [--json]
  flowlm train <pipeline.ts> --rank R --world-size W --master ADDR:PORT [...]   (or RANK, WORLD_SIZE, MASTER_ADDR/PORT)
  flowlm train <pipeline.ts> --tp N | --pp N [--micro-batches M] [--devices cpu:K] [--set ...] [--json]   (no --resume)
  flowlm plan <pipeline.ts|spec.json> [--devices SPEC] [--set ...] [--json]
  flowlm generate --checkpoint DIR --prompt TEXT [--adapter DIR] [--max-tokens N --temperature T --top-k K --top-p P --seed S]
  flowlm eval --checkpoint DIR --tasks a,b,... [--limit N] [--batch-size B] [--out DIR] [--json] | --list
  flowlm export --checkpoint DIR --format safetensors --out FILE   (--format peft --out DIR: a LoRA run's adapter)
  flowlm tune <pipeline.ts> --space FILE --trials N [--parallel K] [--sampler tpe|random|grid] [--pruner median|asha|none]
              [--metric KEY] [--study NAME] [--time-limit S] [--set ...] [--json]   (flowlm tune --help)
  flowlm ui [--store PATH] [--port N] [--host ADDR]
  flowlm report RUN... [--out DIR] [--store PATH]
  flowlm runs ls|show|compare|export|rm [...] [--store PATH]   (flowlm runs --help)
  flowlm tokenizer train --type bpe|wordpiece|unigram --vocab N --out FILE [--input FILES ...] [--tiktoken FILE]
  flowlm prep [...] --cluster nats://HOST:PORT [--job NAME]   (coordinates; items run by flowlm worker)
  flowlm worker --cluster nats://HOST:PORT [--job NAME] [--workers N] [--idle-exit S] [--max-items N]
  flowlm cluster status --cluster nats://HOST:PORT [--job NAME] [--json]
  flowlm ops [--json]
  flowlm help [command]        same as flowlm <command> --help
  flowlm --version

Commands:
  run    validate and run a pipeline spec with bounded memory; progress on stderr, result on stdout
  prep   data preparation alone: documents -> normalised, deduplicated -> tokens -> packed rows -> shards
         and manifest.json (no input: the embedded public-domain corpus); see flowlm prep --help
  train     run a spec with a training chain (pipelines/train-tiny.ts): checkpoints, metrics, resume;
            data parallel on CPU worker threads or GPUs (--devices), or as one rank of W processes
            (--tp/--pp: tensor or pipeline parallel x data parallel on CPU worker threads)
  plan      print the physical plan a spec runs with (placement, ranks, devices, edges, budgets)
  generate  sample a continuation of a prompt from a checkpoint
  eval      score a checkpoint on evaluation tasks (perplexity, cloze, multiple choice, calibration, ...):
            results.parquet + results.json; see flowlm eval --list
  export    write a checkpoint's weights as safetensors (GPT-2 tensor names; f32, or bf16/f16 with --dtype)
  tune      hyperparameter search: trials as recorded runs of a study, TPE/random/grid, median/ASHA pruning,
            resumable (--study NAME); the trials table and the best trial
  ui        a dashboard of the run store in the browser: runs, their params, metrics charted and compared, live
  report    a self-contained HTML report of runs (summary, charts; SVG and PNG of each chart) to keep or share
  runs      the recorded runs: ls (filter by name, status, params), show, compare, export (CSV, Parquet), rm
  tokenizer train a BPE/WordPiece/Unigram tokenizer on a corpus: tokenizer.json (+ tiktoken ranks); flowlm tokenizer --help
  worker    run work items of clustered data preparation (prep --cluster) pulled from NATS JetStream
  cluster   status of clustered prep jobs: items done, pending, out with workers, parked; MB/s per worker
  ops    list the operators (ids usable as "op") and resource kinds, with every config field

${RUN_OPTIONS_HELP}

${SPEC_BRIEF}

${EXIT_CODES}

${EXAMPLES}
`;
}

const SPEC_FULL = `Spec format:
  A TypeScript/JavaScript module whose default export (or export named "pipeline") is the spec, usually
  \`export default pipeline({...})\` (pipeline from flowlm's src/graph/spec.ts), or a JSON file:
    {
      "name": "my-prep",
      "budget": { "maxInFlight": 8, "maxInFlightBytes": 268435456 },
      "nodes": {
        "read":  { "op": "ingest/read-text", "config": { "paths": ["data/*.txt"], "unit": "paragraph" } },
        "clean": { "op": "clean/normalize", "workers": 2 },
        "write": { "op": "io/write-jsonl", "config": { "path": "out/docs.jsonl" } }
      },
      "edges": [["read", "clean"], { "from": "clean", "to": "write" }]
    }
  The linear shorthand replaces nodes and edges: "steps": [{ "id": "read", "op": ..., "config": ... }, ...]
  (each step feeds the next).
  op       an operator id (listed below) or, in a TS/JS spec, the imported operator factory
  config   the operator's options, checked by its schema (flowlm ops lists what each operator does)
  workers  run a parallel operator's batch kernel on N worker threads (0 or absent: inline)
  budget   credits of a source: at most maxInFlight batches / maxInFlightBytes bytes between it and the
           sinks (pipeline-wide, or on a source node for that source)
  Relative paths in configs are resolved against the current directory.

Output:
  stdout: a per-node table, or with --json one object as the last line:
    {"ok":true,"pipeline":...,"durationMs":...,"nodes":{"<id>":{"op":...,"rowsIn":...,"rowsOut":...,
     "batchesIn":...,"batchesOut":...,"bytesIn":...,"bytesOut":...,"dropped":...,"dropReasons":{...},
     "busyMs":...}},"sinks":[{"node":...,"rows":...,"batches":...,"files":[...],"cancelled":false}]}
    failed run: "ok":false, "error":{"operator":<node>,"op":<operator id>,"message":...,"location":
     {"file","offset","line","row","batch","field"}}; cancelled: also "cancelled":true,"signal":...
    invalid spec: {"ok":false,"issues":[{"path":...,"message":...}]}
  stderr: progress (rows, batches, throughput, queue depth or credit in flight, dropped) and errors.`;

export async function runHelp(registry: Registry): Promise<string> {
  const ops = await listOperators(registry);
  const w = Math.max(2, ...ops.map((o) => o.id.length));
  return `Usage: flowlm run <spec.ts|spec.js|spec.json> [options]

Loads the spec, applies --set overrides, validates it (operators, configs, edges and their schemas,
cycles, dangling nodes: all problems at once) and runs it; sinks write atomically.

${RUN_OPTIONS_HELP}

Across processes and machines: flowlm run FILE --cluster nats://HOST:PORT [--job NAME] [--ack-wait S]
  [--max-deliver N] [--max-ack-pending N] [--dedup-partitions P] [--item-bytes N] [--set ...] [--json]
  runs a data spec that is a prep pipeline file (exporting prepSpec(options), as pipelines/prep-default.ts)
  as flowlm prep FILE --cluster does: this process coordinates, flowlm worker processes run the work items,
  and the shards equal flowlm run FILE's bytes (flowlm prep --help describes the cluster flags).

${SPEC_FULL}

${EXIT_CODES}

${EXAMPLES}

Operators (flowlm ops describes them):
${ops.map((o) => `  ${pad(o.id, w)}  ${o.kind}`).join('\n') || '  (none found)'}
`;
}
