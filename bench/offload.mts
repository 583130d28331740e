// trainer offload 'disk' against in-memory AdamW on the `tiny` GPT's 7.2M parameters: the median time
// of one optimizer update (the step's other work is the same either way), rounds alternating, and the
// bytes of moments each keeps in memory (the disk one: one chunk of m and v). The file lives in the system temporary directory (or dir=),
// so the figure includes its writes into the page cache, not necessarily the disk. Args: rounds=7 dir=
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/nn/backend/backend.ts';
import { GPT_PRESETS } from '../src/nn/model/config.ts';
import { Gpt } from '../src/nn/model/gpt.ts';
import { sizeOf } from '../src/nn/model/params.ts';
import { AdamWOptimizer } from '../src/nn/optim/adamw-optimizer.ts';
import { DiskOffloadAdamW } from '../src/nn/optim/disk-offload-adamw.ts';
import type { Optimizer } from '../src/nn/optim/optimizer.ts';

const arg = (args: string[], name: string, dflt: string) =>
  args.find((x) => x.startsWith(`${name}=`))?.slice(name.length + 1) ?? dflt;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export default async function offloadBench(args: string[]): Promise<Record<string, unknown>> {
  const rounds = Number(arg(args, 'rounds', '7'));
  const dir = mkdtempSync(join(arg(args, 'dir', tmpdir()), 'flowlm-offload-bench-'));
  await initBackend({ announce: false });
  const model = Gpt.create(GPT_PRESETS.tiny, { seed: 1 });
  const grads = new Map(model.specs.map((s) => [s.name, new Float32Array(sizeOf(s.shape)).fill(1e-3)]));
  const o = { beta1: 0.9, beta2: 0.95, weightDecay: 0.1 };
  const mem = new AdamWOptimizer(model.specs, o);
  const disk = new DiskOffloadAdamW(model.specs, o, dir);
  const times: Record<'memory' | 'disk', number[]> = { memory: [], disk: [] };
  const time = async (opt: Optimizer) => {
    const t0 = performance.now();
    await opt.apply(model, grads, 1e-4);
    return performance.now() - t0;
  };
  await time(mem);
  await time(disk); // warm-up: first touch of the arrays and the file
  const order: Array<'memory' | 'disk'> = ['memory', 'disk'];
  for (let r = 0; r < rounds; r++)
    for (const k of r % 2 ? [...order].reverse() : order) times[k].push(await time(k === 'memory' ? mem : disk));
  const params = model.numParams();
  const out = {
    bench: 'offload',
    params,
    update_ms_memory: Math.round(median(times.memory)),
    update_ms_disk: Math.round(median(times.disk)),
    ratio: Math.round((median(times.disk) / median(times.memory)) * 100) / 100,
    moments_mb_in_memory_memory: Math.round((8 * params) / 2 ** 20),
    moments_mb_in_memory_disk: Math.round(disk.footprint().memoryBytes / 2 ** 20),
    load_average: Math.round(loadavg()[0]! * 100) / 100,
  };
  console.log(
    `AdamW update of ${params} parameters: ${out.update_ms_memory} ms in memory, ${out.update_ms_disk} ms with the moments on disk (${out.ratio}x); moments in memory ${out.moments_mb_in_memory_memory} MB against ${out.moments_mb_in_memory_disk} MB`,
  );
  disk.close();
  model.dispose();
  rmSync(dir, { recursive: true, force: true });
  return out;
}
