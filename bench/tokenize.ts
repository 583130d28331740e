// Tokenizer throughput on the real prose corpus (State of the Union + Moby-Dick, ~13 MB), one core:
// flowlm's engine through the tokenize kernel on Arrow batches, against js-tiktoken and tiktoken's
// WASM build encoding the same documents in the same process. Every flowlm round starts with a fresh
// kernel, so an empty piece cache: its misses are paid in every round. ids_identical compares all
// three on the whole corpus. speedup_2_workers runs the operator in a pipeline on 1 and on 2 worker
// threads of a warmed pool (rounds alternate the order; the same batches, so the same work: the CPU
// time of each run, all threads, is reported too), with the CPU time the process got per wall second,
// which shows whether a second core was free. Figures are medians.
// Args: rounds=5 ref_rounds=2 encoding=cl100k rows=16
import { availableParallelism, loadavg } from 'node:os';
import { RecordBatch, type Utf8 } from 'apache-arrow';
import { z } from 'zod';
import { defineSource } from '../src/core/operator.ts';
import { makeContext } from '../src/core/context.ts';
import { runPipeline } from '../src/runtime/run.ts';
import { WorkerPool } from '../src/runtime/worker-pool.ts';
import { docSchema, type Doc } from '../src/schema/index.ts';
import { readText } from '../operators/ingest/read-text.ts';
import { tokenize } from '../operators/tokenize/tokenize.ts';
import { createEngine, type EngineName } from '../operators/tokenize/engine/engines.ts';
import { ENCODINGS, specialTokenId, type EncodingName } from '../operators/tokenize/engine/encodings.ts';
import { IdBuffer } from '../operators/tokenize/engine/id-buffer.ts';
import { mobyDickChapters, sotuTexts } from '../operators/ingest/embedded-corpus.ts';
import { median } from './_median.ts';

const arg = (args: string[], name: string, dflt: string) =>
  args.find((x) => x.startsWith(`${name}=`))?.slice(name.length + 1) ?? dflt;
const int = (args: string[], name: string, dflt: number) => {
  const v = Number(arg(args, name, String(dflt)));
  if (!Number.isInteger(v) || v < 1)
    throw new Error(`bench tokenize: ${name} must be a positive integer, got ${arg(args, name, '')}`);
  return v;
};
const round2 = (x: number) => Math.round(x * 100) / 100;

/** All values of the tokens columns of `batches`, end to end. */
function allTokens(batches: RecordBatch[]): Int32Array {
  const parts = batches.map((b) => b.getChild('tokens')!.data[0]!.children[0]!.values as Int32Array);
  const out = new Int32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const sameIds = (a: Int32Array, b: Int32Array) =>
  a.length === b.length &&
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

export default async function tokenizeBench(args: string[]): Promise<Record<string, unknown>> {
  const rounds = int(args, 'rounds', 5);
  const refRounds = int(args, 'ref_rounds', 2);
  const rows = int(args, 'rows', 16);
  const encoding = arg(args, 'encoding', 'cl100k') as EncodingName;
  if (!ENCODINGS.includes(encoding))
    throw new Error(`bench tokenize: encoding must be one of ${ENCODINGS.join(', ')}, got ${encoding}`);

  // read as a run with worker stages reads them: text in shared memory (ctx.threaded)
  const read = readText.def.make(
    readText.def.config.parse({ paths: [sotuTexts(), mobyDickChapters()], batchRows: rows }),
    makeContext('read', { threaded: true }),
  );
  const batches: RecordBatch[] = [];
  for await (const b of read) batches.push(b);
  const texts = batches.flatMap((b) => Array.from(b.getChild('text')! as unknown as Iterable<string>));
  const bytes = batches.reduce((n, b) => n + (b.getChild('text')!.data[0]!.values as Uint8Array).byteLength, 0);
  const mb = bytes / 1e6;
  const eos = specialTokenId(encoding, '<|endoftext|>');
  console.log(
    `corpus: ${texts.length} documents, ${mb.toFixed(2)} MB in ${batches.length} batches; encoding ${encoding}`,
  );

  // flowlm: the operator's kernel over the Arrow batches, a fresh kernel (empty cache) per round
  const cfg = tokenize.def.config.parse({ encoding });
  const kernelOf = () => tokenize.def.kernel!(cfg) as (b: RecordBatch<{ text: Utf8 }>) => RecordBatch;
  kernelOf()(batches[0]! as unknown as RecordBatch<{ text: Utf8 }>); // loads the rank table and the plane tables once
  let flowlmIds: Int32Array = new Int32Array(0);
  const flowlmMs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const kernel = kernelOf();
    const t0 = performance.now();
    const out = batches.map((b) => kernel(b as unknown as RecordBatch<{ text: Utf8 }>));
    flowlmMs.push(performance.now() - t0);
    if (r === 0) flowlmIds = allTokens(out);
    console.log(`flowlm round ${r + 1}: ${((mb / flowlmMs[r]!) * 1000).toFixed(2)} MB/s`);
  }

  // the other engines on the same documents (strings decoded beforehand: not counted against them)
  const timeEngine = (name: EngineName, n: number) => {
    const engine = createEngine(name, encoding);
    const ms: number[] = [];
    let ids: Int32Array = new Int32Array(0);
    try {
      for (let r = 0; r < n; r++) {
        const out = new IdBuffer(bytes >> 2);
        const t0 = performance.now();
        for (const t of texts) {
          engine.encode(t, out);
          out.push(eos);
        }
        ms.push(performance.now() - t0);
        ids = out.view();
        console.log(`${name} round ${r + 1}: ${((mb / ms[r]!) * 1000).toFixed(2)} MB/s`);
      }
    } finally {
      engine.dispose();
    }
    return { ms: median(ms), ids };
  };
  const wasm = timeEngine('tiktoken-wasm', rounds);
  const js = timeEngine('js-tiktoken', refRounds);
  const idsIdentical = sameIds(flowlmIds, wasm.ids) && sameIds(flowlmIds, js.ids);

  // the operator in a pipeline on 1 and 2 workers
  const memory = defineSource({
    id: 'bench/memory',
    description: 'the prepared batches',
    config: z.object({}),
    output: docSchema,
    async *make() {
      for (const b of batches) yield new RecordBatch(b.schema, b.data) as RecordBatch<Doc>;
    },
  });
  const pool = new WorkerPool({ size: 2 });
  const run = async (workers: number) => {
    const cpu0 = process.cpuUsage();
    const r = await runPipeline(
      {
        name: `tokenize-${workers}`,
        steps: [
          { id: 'src', op: memory, config: {} },
          { id: 'tokenize', op: tokenize, workers, config: { encoding } },
        ],
      },
      { pool },
    );
    const cpu = process.cpuUsage(cpu0);
    if (!r.ok) throw new Error(`bench tokenize: pipeline on ${workers} workers failed: ${r.error?.message}`);
    return {
      ms: r.durationMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      tokens: r.nodes.tokenize?.counters?.tokens ?? -1,
    };
  };
  const pipeMs: Record<1 | 2, number[]> = { 1: [], 2: [] };
  // CPU time of all the process's threads per wall-clock time: near 2 with 2 workers when the machine
  // has two free cores; near 1 means other processes held the second core (no speedup possible)
  const cpuPerWall: Record<1 | 2, number[]> = { 1: [], 2: [] };
  const cpuMs: Record<1 | 2, number[]> = { 1: [], 2: [] };
  try {
    await run(2); // starts both threads and builds the kernel in each
    for (let r = 0; r < rounds; r++) {
      for (const w of (r % 2 ? [2, 1] : [1, 2]) as Array<1 | 2>) {
        const res = await run(w);
        if (res.tokens !== flowlmIds.length)
          throw new Error(`bench tokenize: ${w} workers produced ${res.tokens} tokens, the kernel ${flowlmIds.length}`);
        pipeMs[w].push(res.ms);
        cpuPerWall[w].push(res.cpuMs / res.ms);
        cpuMs[w].push(res.cpuMs);
        console.log(
          `pipeline round ${r + 1}, ${w} worker${w > 1 ? 's' : ''}: ${res.ms} ms (${((mb / res.ms) * 1000).toFixed(2)} MB/s)`,
        );
      }
    }
  } finally {
    await pool.close();
  }

  const flowlm = (mb / median(flowlmMs)) * 1000;
  const wasmMbs = (mb / wasm.ms) * 1000;
  const jsMbs = (mb / js.ms) * 1000;
  const result = {
    bench: 'tokenize',
    encoding,
    rounds,
    ref_rounds: refRounds,
    documents: texts.length,
    batches: batches.length,
    mb: round2(mb),
    tokens: flowlmIds.length,
    mb_per_s: round2(flowlm),
    mb_per_s_tiktoken_wasm: round2(wasmMbs),
    mb_per_s_js_tiktoken: round2(jsMbs),
    ratio_vs_tiktoken_wasm: round2(flowlm / wasmMbs),
    ratio_vs_js_tiktoken: round2(flowlm / jsMbs),
    ids_identical: idsIdentical,
    pipeline_mb_per_s_1_worker: round2((mb / median(pipeMs[1])) * 1000),
    pipeline_mb_per_s_2_workers: round2((mb / median(pipeMs[2])) * 1000),
    speedup_2_workers: round2(median(pipeMs[1]) / median(pipeMs[2])),
    cpu_per_wall_1_worker: round2(median(cpuPerWall[1])),
    cpu_per_wall_2_workers: round2(median(cpuPerWall[2])),
    cpu_ms_1_worker: Math.round(median(cpuMs[1])),
    cpu_ms_2_workers: Math.round(median(cpuMs[2])),
    tasks_per_thread: pool.depth,
    cores: availableParallelism(),
    load_1m: round2(loadavg()[0]!),
  };
  console.log(
    `flowlm ${result.mb_per_s} MB/s = ${result.ratio_vs_tiktoken_wasm}x tiktoken-wasm (${result.mb_per_s_tiktoken_wasm}), ` +
      `${result.ratio_vs_js_tiktoken}x js-tiktoken (${result.mb_per_s_js_tiktoken}); ids identical: ${idsIdentical}; 2 workers: ${result.speedup_2_workers}x`,
  );
  return result;
}
