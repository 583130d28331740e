// `flowlm plan <pipeline>`: the physical plan of a training pipeline (replicas per device, all-reduce
// transport, rank-0 stages, batch/gradient/memory budgets) or of a data pipeline spec (worker
// parallelism, fan-out/fan-in, credit budgets), without running it. Logic: src/scheduler/plan.ts.
import { parseArgs } from 'node:util';
import { defaultRegistry, type Registry } from '../graph/registry.ts';
import { DeviceError } from '../scheduler/devices.ts';
import { planFile, PlanError } from '../scheduler/plan.ts';
import { planText } from '../scheduler/plan-table.ts';
import { UsageError, type CliIO } from './io.ts';
import { parseCount } from './run-command.ts';

export const PLAN_USAGE = 'flowlm plan <pipeline.ts|spec.json> [--devices SPEC] [--set key=value ...] [--json]';

export function planHelp(): string {
  return `Usage: ${PLAN_USAGE}

Prints the physical plan of a pipeline without running it.
  Training pipeline (e.g. pipelines/train-tiny.ts, its exported config): the training chain
  read-shards -> forward-backward -> all-reduce -> optimizer-step replicated once per device, the
  data split by rank, evaluate/checkpoint/metrics on rank 0, the edges, and the budgets: micro-batch
  and global batch rows, gradient bytes per step, memory per replica (moments sharded under zero=true).
  Data pipeline spec (as flowlm run loads it): each node's worker parallelism, fan-out/fan-in edges
  and the credit budgets (batches and bytes in flight per source).

Options:
      --devices SPEC           training: auto (default), cpu:N, gpu:all, gpu:0,1 (see flowlm train --help)
  -s, --set key=value          training: a config field (steps=100, zero=true, batchSize=4);
                               data: node.key=value as for flowlm run
      --max-in-flight N        data: batches each source may have in flight (replaces the spec's budget)
      --max-in-flight-bytes N  data: bytes each source may have in flight (k, M, G suffixes)
      --json                   the plan as one JSON object on stdout
  -h, --help                   show help

Exit codes: 0 printed, 1 failed, 2 bad usage, invalid spec or config, or devices not available.`;
}

const OPTIONS = {
  devices: { type: 'string' }, set: { type: 'string', multiple: true, short: 's' }, json: { type: 'boolean' },
  'max-in-flight': { type: 'string' }, 'max-in-flight-bytes': { type: 'string' }, help: { type: 'boolean', short: 'h' },
} as const;

export async function planCommand(argv: string[], io: CliIO, registry: Registry = defaultRegistry): Promise<number> {
  let args;
  try { args = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }); } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), 'plan');
  }
  const { values, positionals } = args;
  if (values.help) { io.out(planHelp()); return 0; }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'which pipeline? e.g. flowlm plan pipelines/train-tiny.ts --devices cpu:2' : `one pipeline file expected, got ${positionals.join(' ')}`, 'plan');
  const budget = {
    maxInFlight: values['max-in-flight'] === undefined ? undefined : parseCount('max-in-flight', values['max-in-flight']),
    maxInFlightBytes: values['max-in-flight-bytes'] === undefined ? undefined : parseCount('max-in-flight-bytes', values['max-in-flight-bytes'], true),
  };
  let plan;
  try {
    plan = await planFile(positionals[0]!, { sets: values.set ?? [], devices: values.devices, budget, registry });
  } catch (err) {
    if (err instanceof DeviceError || err instanceof PlanError) throw new UsageError(err.message, 'plan');
    throw err;
  }
  io.out(values.json ? JSON.stringify(plan) : planText(plan));
  return 0;
}
