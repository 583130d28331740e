// Resources in specs: declared by name with a kind and a zod-validated config, named by operators
// (resourceRef), checked at validation (unknown kind, missing name, wrong kind, cycles, a name shared
// with a node), built once per process on first use and disposed when the run ends; and a physical
// plan, not the spec, decides where nodes run (ranks) and what credits they get.
import { Int32, Schema, Field, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { mapBatch } from '../../src/core/map-batch.ts';
import { defineOperator, defineSink, defineSource } from '../../src/core/operator.ts';
import { defineResource, resourceRef } from '../../src/core/resource.ts';
import { SpecError } from '../../src/core/errors.ts';

import { Registry } from '../../src/graph/registry.ts';
import { validatePipeline } from '../../src/graph/validate.ts';
import { runPipeline } from '../../src/runtime/run.ts';
import { physicalPlan } from '../../src/scheduler/physical-plan.ts';
import { batchFromColumns } from '../../src/schema/build.ts';

type N = { n: Int32 };
const schema = () => new Schema<N>([new Field('n', new Int32(), false)]);
const events: string[] = [];

const counter = defineResource({
  kind: 'test/counter',
  description: 'a start value',
  config: z.object({ start: z.number().int().default(0).describe('first value') }),
  open: (c) => {
    events.push(`open counter ${c.start}`);
    return { next: c.start };
  },
  dispose: () => {
    events.push('dispose counter');
  },
});
const scaled = defineResource({
  kind: 'test/scaled',
  description: 'a counter times a factor',
  config: z.object({ counter: resourceRef('test/counter'), factor: z.number().describe('multiplier') }),
  open: async (c, scope) => {
    const base = await scope.get<{ next: number }>(c.counter);
    events.push('open scaled');
    return { base, factor: c.factor };
  },
  dispose: () => {
    events.push('dispose scaled');
  },
});
const loop = defineResource({
  kind: 'test/loop',
  description: 'refers to another loop',
  config: z.object({ other: resourceRef('test/loop') }),
  open: () => ({}),
});

const source = defineSource({
  id: 'test/ints',
  description: 'integers',
  config: z.object({ batches: z.number().int().default(4) }),
  output: schema,
  credits: { maxInFlight: 1 },
  async *make(cfg): AsyncGenerator<RecordBatch<N>> {
    for (let i = 0; i < cfg.batches; i++) yield batchFromColumns(schema(), { n: Int32Array.of(i) });
  },
});
const addFrom = defineOperator({
  id: 'test/add-from',
  description: "adds the resource's scaled counter",
  config: z.object({ scaled: resourceRef('test/scaled') }),
  input: schema,
  passthrough: false,
  output: schema,
  make: (cfg, ctx) => {
    const r = ctx.resources!.get<{ base: { next: number }; factor: number }>(cfg.scaled, 'test/scaled');
    return mapBatch(async (b: RecordBatch<N>) => {
      const { base, factor } = await r;
      const v = b.getChild('n')!.get(0)! + base.next++ * factor;
      return batchFromColumns(schema(), { n: Int32Array.of(v) });
    });
  },
});
const seen: number[] = [];
const collect = defineSink({
  id: 'test/collect',
  description: 'keeps values',
  config: z.object({}),
  input: schema,
  make: () => ({
    write: (b) => {
      seen.push(b.getChild('n')!.get(0)!);
    },
    close: () => undefined,
    abort: () => undefined,
  }),
});

const registry = () => new Registry([]).register(source, addFrom, collect).registerResource(counter, scaled, loop);
const spec = (resources: Record<string, unknown>, more: Record<string, unknown> = {}) => ({
  resources,
  steps: [
    { id: 'src', op: 'test/ints' },
    { id: 'add', op: 'test/add-from', config: { scaled: 'sc' } },
    { id: 'out', op: 'test/collect' },
  ],
  ...more,
});
const issues = async (s: unknown) => {
  try {
    await validatePipeline(s, registry());
  } catch (err) {
    if (err instanceof SpecError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  return [];
};

describe('resources in specs', () => {
  it('are checked when the spec is validated, each problem with its path', async () => {
    expect(await issues(spec({ sc: { kind: 'test/nope' } }))).toEqual([
      expect.stringMatching(
        /^resources\.sc\.kind: unknown resource kind "test\/nope" \(known: .*test\/counter, test\/loop, test\/scaled/,
      ),
    ]);
    expect(await issues(spec({ sc: { kind: 'test/scaled', config: { counter: 'c', factor: 2 } } }))).toEqual([
      expect.stringMatching(/^resources\.sc\.config\.counter: no resource named "c"/),
    ]);
    expect(await issues(spec({ sc: { kind: 'test/counter' } }))).toEqual([
      expect.stringMatching(
        /^steps\[1\]\.config\.scaled: resource "sc" is a test\/counter; scaled needs a test\/scaled/,
      ),
    ]);
    expect(
      await issues(
        spec({ sc: { kind: 'test/scaled', config: { counter: 'c', factor: 'x' } }, c: { kind: 'test/counter' } }),
      ),
    ).toEqual([expect.stringMatching(/^resources\.sc\.config\.factor: /)]);
    expect(
      await issues(
        spec({
          sc: { kind: 'test/scaled', config: { counter: 'c', factor: 1 } },
          c: { kind: 'test/counter' },
          a: { kind: 'test/loop', config: { other: 'b' } },
          b: { kind: 'test/loop', config: { other: 'a' } },
        }),
      ),
    ).toEqual([expect.stringMatching(/^resources\.a: resources refer to each other in a cycle: a -> b -> a/)]);
    expect(
      await issues(
        spec({ sc: { kind: 'test/scaled', config: { counter: 'add', factor: 1 } }, add: { kind: 'test/counter' } }),
      ),
    ).toEqual([expect.stringMatching(/^resources\.add: "add" names both a node and a resource/)]);
  });

  it('are built once per process, after those they refer to, and disposed in reverse order when the run ends', async () => {
    events.length = 0;
    seen.length = 0;
    const resolved = await validatePipeline(
      spec({
        sc: { kind: 'test/scaled', config: { counter: 'c', factor: 10 } },
        c: { kind: 'test/counter', config: { start: 5 } },
      }),
      registry(),
    );
    const r = await runPipeline(resolved, { plan: physicalPlan('test', resolved) });
    expect(r.ok).toBe(true);
    expect(seen).toEqual([50, 61, 72, 83]); // one counter shared across batches: 5, 6, 7, 8 (x10) + i
    expect(events).toEqual(['open counter 5', 'open scaled', 'dispose scaled', 'dispose counter']);
    // the source's credits are capped by its operator (1), whatever the pipeline's budget (8)
    expect(r.sources.src!.peakInFlight).toBe(1);
    expect(r.plan!.budgets.sources).toEqual([{ source: 'src', maxInFlight: 1, maxInFlightBytes: 256 * 1024 * 1024 }]);
  });

  it('the executor runs the plan: a node the plan puts on another rank does not run here', async () => {
    seen.length = 0;
    const resolved = await validatePipeline(
      spec({ sc: { kind: 'test/scaled', config: { counter: 'c', factor: 10 } }, c: { kind: 'test/counter' } }),
      registry(),
    );
    const plan = physicalPlan('test', resolved);
    // the same spec, with the plan's transform moved to rank 1: here (rank 0) batches pass it unchanged
    const moved = { ...plan, nodes: plan.nodes.map((n) => (n.id === 'add' ? { ...n, ranks: [1] } : n)) };
    const r = await runPipeline(resolved, { plan: moved });
    expect(r.ok).toBe(true);
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(r.nodes.add!.batchesIn).toBe(0);
    // and the sink moved away drops the batches, returning their credits
    seen.length = 0;
    const noSink = { ...plan, nodes: plan.nodes.map((n) => (n.id === 'out' ? { ...n, ranks: [1] } : n)) };
    const r2 = await runPipeline(resolved, { plan: noSink });
    expect(r2.ok).toBe(true);
    expect(seen).toEqual([]);
    expect(r2.sinks).toEqual([{ node: 'out', rows: 4, batches: 4, files: [], cancelled: false }]);
  });
});
