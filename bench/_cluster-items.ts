// A clustered prep's work items run by a plain process, without NATS or a coordinator (bench/cluster-cpu.ts):
// `node --import src/runtime/ts-import.mjs bench/_cluster-items.ts OUT K N --input GLOB...` plans the items
// as the coordinator does and runs those whose index is K mod N, in order, tokenizing on this thread (prep
// --workers 0, as the cluster bench's worker processes do). Prints one JSON line: items run, and this
// thread's CPU while running them.
import { planItems, runItem } from '../pipelines/prep-cluster.ts';
import { threadTimes } from './_thread-cpu.ts';

const [out, k, n, ...flags] = process.argv.slice(2);
const inputs = flags.filter((_, i) => flags[i - 1] === '--input');
if (!out || !inputs.length) throw new Error('usage: _cluster-items.ts OUT K N --input GLOB...');
const threadMs = () => threadTimes().get(String(process.pid)) ?? 0;
const options = { inputs, out, workers: 0 };
const plan = await planItems(options);
const t0 = threadMs();
let items = 0;
for (const [index, paths] of plan.entries())
  if (index % Number(n) === Number(k)) {
    items++;
    await runItem({ job: 'bench-items', index, count: plan.length, path: paths[0]!, paths, options });
  }
console.log(JSON.stringify({ items, itemsCpuMs: Math.round(threadMs() - t0) }));
