// A lazily generated source of >= 2 GiB of batches into a sink that sleeps per batch. Bounded memory
// means peak RSS stays near budget x batch size, however much the source could produce.
import { Int32, RecordBatch, makeData, Struct, Field, Schema } from 'apache-arrow';
import { z } from 'zod';
import { defineSink, defineSource } from '../src/core/operator.ts';
import { runPipeline } from '../src/runtime/run.ts';
import { peakRssMb } from '../src/runtime/peak-rss.ts';

const BATCH_INTS = 1 << 20; // 4 MiB of Int32 per batch
type Ids = { ids: Int32 };
const schema = new Schema<Ids>([new Field('ids', new Int32(), false)]);

const lazySource = defineSource({
  id: 'bench/lazy-ints',
  description: 'batches of 4 MiB generated on demand',
  config: z.object({ totalBytes: z.number() }),
  output: () => schema,
  async *make(cfg) {
    const batches = Math.ceil(cfg.totalBytes / (BATCH_INTS * 4));
    for (let b = 0; b < batches; b++) {
      const values = new Int32Array(BATCH_INTS);
      for (let i = 0; i < BATCH_INTS; i += 1024) values[i] = b + i; // touch every page so RSS is real
      const child = makeData({ type: new Int32(), length: BATCH_INTS, data: values });
      yield new RecordBatch(
        schema,
        makeData({ type: new Struct(schema.fields), length: BATCH_INTS, children: [child] }),
      );
    }
  },
});

const sleepySink = defineSink({
  id: 'bench/sleepy-sink',
  description: 'sleeps per batch',
  config: z.object({ ms: z.number() }),
  input: () => schema,
  make: (cfg) => ({
    write: () => new Promise<void>((r) => setTimeout(r, cfg.ms)),
    close: () => [],
    abort: () => undefined,
  }),
});

export default async function backpressure(args: string[]): Promise<Record<string, unknown>> {
  const gib = Number(args[0] ?? 2);
  const limit = 8;
  const totalBytes = gib * 1024 ** 3;
  let sampled = 0;
  const timer = setInterval(() => {
    sampled = Math.max(sampled, process.memoryUsage().rss);
  }, 5);
  const r = await runPipeline({
    name: 'backpressure',
    budget: { maxInFlight: limit, maxInFlightBytes: 64 * 1024 ** 2 },
    steps: [
      { id: 'source', op: lazySource, config: { totalBytes } },
      { id: 'sink', op: sleepySink, config: { ms: 2 } },
    ],
  });
  clearInterval(timer);
  if (!r.ok) throw new Error(`run failed: ${r.error?.message}`);
  const sourceBytes = r.nodes.source!.bytesOut;
  const out = {
    peak_rss_mb: Math.round(peakRssMb()),
    sampled_peak_rss_mb: Math.round(sampled / 1024 ** 2),
    source_bytes: sourceBytes,
    source_gib: +(sourceBytes / 1024 ** 3).toFixed(2),
    batches: r.nodes.sink!.batchesIn,
    max_in_flight_batches: r.sources.source!.peakInFlight,
    limit_batches: limit,
    limit_bytes: 64 * 1024 ** 2,
    duration_ms: r.durationMs,
  };
  console.error(
    `backpressure: ${out.source_gib} GiB through a sleeping sink, peak RSS ${out.peak_rss_mb} MB, in flight <= ${out.max_in_flight_batches}/${limit}`,
  );
  return out;
}
