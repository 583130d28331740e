// bf16 against f32 payloads in the data-parallel gradient all-reduce, and checkpoint bytes.
// 1. Two processes on TCP loopback (socketCollective), each all-reducing a gradient of the `tiny`
//    model's size (7.2M float32, 29 MB) the way the trainer does (allReduceMean: 4 MiB buckets, mean),
//    with wire f32 and bf16 in alternating rounds (so drift in the machine's load hits both alike).
//    Every round starts after a barrier; a round's time is the slower rank's; medians over the rounds
//    after `warmup` rounds of each. Both ranks' results are checked bit-identical for each wire.
//    The bf16 wire trades conversions for bytes: at world size 2 each rank encodes and decodes n values
//    per all-reduce and sends 2n bytes fewer. Measured here in this process (median of `rounds`):
//    conversion_ms, and breakeven_link_MBps = 2n bytes / conversion_ms, the link speed below which
//    the bytes saved take longer to send than the conversions take (loopback is far above it).
// 2. Bytes of a `tiny` training checkpoint (params.arrow, optimizer.arrow) with checkpointDtype f32
//    and bf16.
// Args: rounds=7 warmup=2
// This file is also the ranks' program: spawned with FLOWLM_BF16_BENCH_RANK set, it runs one rank.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rankArgs, say, twoTcpRanks } from './_tcp-ranks.ts';
import { saveCheckpoint, type NamedTensors } from '../src/nn/checkpoint/index.ts';
import { bf16ToF32, f32ToBf16 } from '../src/nn/checkpoint/half-precision.ts';
import { GPT_PRESETS, gptConfig } from '../src/nn/model/config.ts';
import { paramSpecs } from '../src/nn/model/params.ts';
import { allReduceMean, BUCKET_ELEMS } from '../src/nn/train/replica-reduce.ts';
import { socketCollective } from '../src/runtime/collectives/socket-transport.ts';
import type { WireDtype } from '../src/runtime/collectives/bf16-wire.ts';
import { Rng } from '../src/runtime/rng.ts';

const ENV = 'FLOWLM_BF16_BENCH_RANK';
const WIRES: WireDtype[] = ['f32', 'bf16'];

interface RankArgs {
  rank: number;
  port: number;
  floats: number;
  rounds: number;
}
type Done = { ms: Record<string, number[]>; sha: Record<string, string> };

const tiny = gptConfig(GPT_PRESETS.tiny);
const specs = paramSpecs(tiny).map((s) => ({ ...s, size: s.shape.reduce((a, b) => a * b, 1) }));
const randomFill = (n: number, seed: number, scale: number) => {
  const rng = new Rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rng.next() * 2 - 1) * scale;
  return a;
};

async function rankMain(a: RankArgs): Promise<void> {
  try {
    const c = await socketCollective({
      rank: a.rank,
      worldSize: 2,
      master: { host: '127.0.0.1', port: a.port },
      timeoutMs: 60_000,
      onListening: (addr) => say<Done>({ kind: 'listening', port: addr.port }),
    });
    const input = randomFill(a.floats, 100 + a.rank, 1e-3); // gradient-sized values
    const data = new Float32Array(a.floats);
    const ms: Record<string, number[]> = { f32: [], bf16: [] };
    const sha: Record<string, string> = {};
    for (let i = 0; i < a.rounds; i++)
      for (const wire of i % 2 ? [...WIRES].reverse() : WIRES) {
        data.set(input);
        await c.barrier();
        const t0 = performance.now();
        await allReduceMean(c, data, BUCKET_ELEMS, wire);
        ms[wire]!.push(performance.now() - t0);
        sha[wire] = createHash('sha256').update(new Uint8Array(data.buffer)).digest('hex');
      }
    await c.close();
    say<Done>({ kind: 'done', rank: a.rank, ms, sha });
  } catch (err) {
    say<Done>({ kind: 'failed', rank: a.rank, message: err instanceof Error ? err.message : String(err) });
    process.exitCode = 1;
  }
}

async function overTcp(floats: number, rounds: number) {
  const done = await twoTcpRanks<Done>('bf16-allreduce', import.meta.url, ENV, (rank, port) => ({
    rank,
    port,
    floats,
    rounds,
  }));
  for (const w of WIRES)
    if (done[0]!.sha[w] !== done[1]!.sha[w]) throw new Error(`bench bf16-allreduce: ranks differ with the ${w} wire`);
  return done;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Median time to encode and decode `n` values to and from bf16 (what one rank of two converts per all-reduce). */
function conversionMs(n: number, rounds: number): number {
  const x = randomFill(n, 5, 1e-3);
  const h = new Uint16Array(n);
  const back = new Float32Array(n);
  const ms: number[] = [];
  for (let r = 0; r <= rounds; r++) {
    const t0 = performance.now();
    f32ToBf16(x, h);
    bf16ToF32(h, back);
    if (r > 0) ms.push(performance.now() - t0); // the first is warm-up
  }
  return median(ms);
}

async function checkpointBytes(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'flowlm-bench-bf16-'));
  try {
    const tensors = (seed: number, scale: number): NamedTensors =>
      new Map(specs.map((s, i) => [s.name, { shape: s.shape, values: randomFill(s.size, seed * 1000 + i, scale) }]));
    const params = tensors(1, 0.02);
    const optimizer = { m: tensors(2, 1e-3), v: tensors(3, 1e-6), step: 1 };
    const out: Record<string, number> = {};
    for (const dtype of ['f32', 'bf16'] as const) {
      const saved = await saveCheckpoint(
        join(dir, dtype),
        { step: 1, params, optimizer, state: { rng: null, dataCursor: null, configHash: 'bench', config: null } },
        { paramsDtype: dtype },
      );
      out[`ckpt_${dtype}_params_bytes`] = statSync(join(saved.dir, 'params.arrow')).size;
      out[`ckpt_${dtype}_optimizer_bytes`] = statSync(join(saved.dir, 'optimizer.arrow')).size;
    }
    out.ckpt_params_ratio = Number((out.ckpt_bf16_params_bytes! / out.ckpt_f32_params_bytes!).toFixed(4));
    const total = (d: string) => out[`ckpt_${d}_params_bytes`]! + out[`ckpt_${d}_optimizer_bytes`]!;
    out.ckpt_total_ratio = Number((total('bf16') / total('f32')).toFixed(4));
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function bf16Allreduce(args: string[]): Promise<Record<string, number>> {
  const num = (name: string, dflt: number) => {
    const v = Number(args.find((x) => x.startsWith(`${name}=`))?.slice(name.length + 1) ?? dflt);
    if (!Number.isInteger(v) || v < 1) throw new Error(`bench bf16-allreduce: ${name} must be a positive integer`);
    return v;
  };
  const rounds = num('rounds', 7),
    warmup = num('warmup', 2);
  const floats = specs.reduce((t, s) => t + s.size, 0);
  const done = await overTcp(floats, rounds + warmup);
  const out: Record<string, number> = { floats, mb: Number(((floats * 4) / 1e6).toFixed(1)), rounds };
  for (const w of WIRES) {
    const slowest = done[0]!.ms[w]!.map((x, i) => Math.max(x, done[1]!.ms[w]![i]!)).slice(warmup);
    out[`tcp_${w}_median_ms`] = Number(median(slowest).toFixed(1));
  }
  out.tcp_bf16_vs_f32_time = Number((out.tcp_bf16_median_ms! / out.tcp_f32_median_ms!).toFixed(3));
  out.conversion_ms = Number(conversionMs(floats, rounds).toFixed(1));
  out.breakeven_link_MBps = Math.round((2 * floats) / 1e6 / (out.conversion_ms / 1e3));
  Object.assign(out, await checkpointBytes());
  console.log(`bf16 all-reduce and checkpoint bytes, tiny (${out.mb} MB): ${JSON.stringify(out)}`);
  return out;
}

const mine = rankArgs<RankArgs>(ENV);
if (mine) await rankMain(mine);
