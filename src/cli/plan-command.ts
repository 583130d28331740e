// `flowlm plan <spec>`: the physical plan of a spec without running it — the object `flowlm run` and
// `flowlm train` execute and record in their summaries. Logic: src/scheduler/plan.ts, physical-plan.ts.
import { parseArgs } from 'node:util';
import { defaultRegistry, type Registry } from '../graph/registry.ts';
import { DeviceError } from '../scheduler/devices.ts';
import { planFile, PlanError } from '../scheduler/plan.ts';
import { planText } from '../scheduler/plan-table.ts';
import type { MemoryPlan, MemoryTerms } from '../scheduler/memory-plan.ts';
import { bytes } from './format.ts';
import { UsageError, type CliIO } from './io.ts';
import { parseCount } from './run-command.ts';

export const PLAN_USAGE =
  'flowlm plan <pipeline.ts|spec.json> [--devices SPEC] [--set key=value ...] [--memory] [--json]';

export function planHelp(): string {
  return `Usage: ${PLAN_USAGE}

Prints the physical plan of a spec without running it: the object flowlm run and flowlm train
execute (their --json summaries record it). For every node: its placement (replica: once per device;
rank0: rank 0 only; workers: a kernel the worker pool runs; any), the ranks and devices that run it,
worker threads and credits; the resources (one per rank); the edges (per rank, to rank 0, blocking);
the budgets: credits per source, worker threads, and for a training graph the micro-batch and global
batch rows, gradient bytes per step and memory per replica (moments sharded with optimizer.zero=true).

Options:
      --devices SPEC           a graph with a training chain: auto (default), cpu:N, gpu:all, gpu:0,1
                               (see flowlm train --help); refused for a graph with nothing to replicate
  -s, --set name.key=value     a node's or a resource's config field (trainer.steps=100,
                               optimizer.zero=true, data.dir=out/prep); params.key=value for a spec
                               module's parameters (params.data=shards)
      --max-in-flight N        batches each source may have in flight (replaces the spec's budget)
      --max-in-flight-bytes N  bytes each source may have in flight (k, M, G suffixes)
      --memory                 a training graph: each device's predicted peak memory, term by term
                               (parameters, gradients, AdamW moments, activations, head pass), with
                               and without activation checkpointing (--json: under a memory key)
      --json                   the plan as one JSON object on stdout
  -h, --help                   show help

Exit codes: 0 printed, 1 failed, 2 bad usage, invalid spec or config, or devices not available.`;
}

const OPTIONS = {
  devices: { type: 'string' },
  set: { type: 'string', multiple: true, short: 's' },
  json: { type: 'boolean' },
  memory: { type: 'boolean' },
  'max-in-flight': { type: 'string' },
  'max-in-flight-bytes': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function planCommand(argv: string[], io: CliIO, registry: Registry = defaultRegistry): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), 'plan');
  }
  const { values, positionals } = args;
  if (values.help) {
    io.out(planHelp());
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length === 0
        ? 'which pipeline? e.g. flowlm plan pipelines/train-tiny.ts --devices cpu:2'
        : `one pipeline file expected, got ${positionals.join(' ')}`,
      'plan',
    );
  const budget = {
    maxInFlight:
      values['max-in-flight'] === undefined ? undefined : parseCount('max-in-flight', values['max-in-flight']),
    maxInFlightBytes:
      values['max-in-flight-bytes'] === undefined
        ? undefined
        : parseCount('max-in-flight-bytes', values['max-in-flight-bytes'], true),
  };
  let plan;
  try {
    plan = await planFile(positionals[0]!, { sets: values.set ?? [], devices: values.devices, budget, registry });
  } catch (err) {
    if (err instanceof DeviceError || err instanceof PlanError) throw new UsageError(err.message, 'plan');
    throw err;
  }
  if (values.memory) {
    const memory = (plan.budgets.train as { memory?: MemoryPlan } | undefined)?.memory;
    if (!memory)
      throw new UsageError(
        `--memory: ${positionals[0]} has no training chain (no nn/trainer resource), so there is no step to ` +
          'plan memory for; drop --memory, or plan a training spec such as pipelines/train-tiny.ts',
        'plan',
      );
    io.out(values.json ? JSON.stringify({ ...plan, memory }) : memoryText(memory, plan.worldSize));
    return 0;
  }
  io.out(values.json ? JSON.stringify(plan) : planText(plan));
  return 0;
}

const ROWS: Array<[keyof MemoryTerms, string]> = [
  ['params', 'parameters (tensors)'],
  ['activations', 'activations kept for the backward (tensors)'],
  ['headChunk', 'output head blocks and chunk (tensors)'],
  ['atHead', '= at the head pass'],
  ['grads', 'gradients (tensors)'],
  ['headGradHeld', "head and embedding's dW, held (tensors)"],
  ['atEnd', '= at the backward pass end'],
  ['tensorPeak', '= tensor peak (measured by tf.profile)'],
  ['flatGrads', 'flat gradient buffer (JS)'],
  ['moments', 'AdamW moments (JS)'],
  ['kernelState', "JS kernels' saved arrays"],
  ['headArrays', "output head's W and dW copies (JS)"],
  ['jsPeak', '= JS peak (predicted only)'],
  ['total', 'predicted peak'],
];

/** The planner's terms per device, without and with activation checkpointing, side by side. */
export function memoryText(m: MemoryPlan, worldSize: number): string {
  const w = Math.max(...ROWS.map((r) => r[1].length));
  return [
    `memory per device (${worldSize} device${worldSize === 1 ? '' : 's'}, ${m.params} parameters):`,
    `  ${'TERM'.padEnd(w)}  ${'PLAIN'.padStart(10)}  ${'CHECKPOINTED'.padStart(12)}`,
    ...ROWS.map(
      ([k, label]) =>
        `  ${label.padEnd(w)}  ${bytes(m.plain[k]).padStart(10)}  ${bytes(m.checkpointed[k]).padStart(12)}`,
    ),
    `  head rows per chunk: ${m.plain.headRowsPerChunk}`,
    '  the tensor terms are checked against tf.profile (bench memory-plan, within 12% for three sizes);',
    '  the JS arrays (flat gradients, moments, kernel state, head copies) are predicted only',
  ].join('\n');
}
