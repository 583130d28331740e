// The options `flowlm run` (and prep, which shares them) takes, as help text: in a file of its own so that
// commands can show it without loading help.ts, which lists every operator (~0.5 s of start-up).
export const RUN_OPTIONS_HELP = `Options of flowlm run:
  -s, --set node.key=value     override a key of a node's (or a resource's) config; repeatable. Nested:
                               node.a.b=value. The value is JSON when it parses (100, true, null,
                               ["a","b"], {"x":1}), otherwise a string (out/x.jsonl). Unknown nodes are
                               spec errors. params.key=value: a parameter of a spec module whose default
                               export is a function (pipelines/end-to-end.ts: params.data=shards).
                               --set ~node.key removes the key, so its default applies (or another
                               source field can be given: --set ~prompts.prompts --set prompts.file=F).
      --json                   print one JSON summary object as the last stdout line
      --progress MODE          auto (default): bars on a terminal, plain lines otherwise;
                               bars | plain (a line every 2 s and one at the end) | none. Always on stderr.
      --max-in-flight N        batches each source may have between itself and the sinks (default 8)
      --max-in-flight-bytes N  bytes each source may have in flight; k, M, G = KiB, MiB, GiB (default 256M)
                               (both replace the spec's pipeline budget; a node's own budget still wins)
      --devices SPEC           a graph with a training chain: where its replicas run (see flowlm train)
      --resume                 a graph with a training chain: continue from the latest checkpoint
      --every N                a graph with a training chain: a progress line every N steps
  -h, --help                   show help`;
