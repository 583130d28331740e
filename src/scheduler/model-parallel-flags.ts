// `flowlm train`'s model-parallel flags (--tp N, --pp N, --micro-batches M) checked together with the
// flags they exclude: one of --tp/--pp, no --resume (a run starts fresh), no --rank processes, and CPU
// devices only (default cpu:N, one thread per shard or stage). Errors name the flag; the CLI reports
// them as bad usage (exit 2).
import { ModelParallelError, type ParallelKind } from './model-parallel-config.ts';

export interface ModelParallelFlags {
  tp?: string;
  pp?: string;
  'micro-batches'?: string;
  devices?: string;
  resume?: boolean;
  rank?: string;
  'world-size'?: string;
  master?: string;
}

export interface ModelParallelChoice {
  kind: ParallelKind;
  size: number;
  micro?: number;
  /** the --devices text, or cpu:size */
  devices: string;
}

/** Whether any model-parallel flag is given (the run then goes to trainModelParallel). */
export const wantsModelParallel = (f: ModelParallelFlags): boolean =>
  f.tp !== undefined || f.pp !== undefined || f['micro-batches'] !== undefined;

function whole(flag: string, text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1)
    throw new ModelParallelError(`${flag} expects a whole number >= 1, got "${text}"`);
  return Number(text);
}

export function modelParallelChoice(f: ModelParallelFlags): ModelParallelChoice {
  if (f.tp !== undefined && f.pp !== undefined)
    throw new ModelParallelError('--tp and --pp together are not supported: choose one');
  if (f.tp === undefined && f.pp === undefined)
    throw new ModelParallelError('--micro-batches applies to --pp only: add --pp N');
  const kind: ParallelKind = f.tp !== undefined ? 'tp' : 'pp';
  const flag = `--${kind}`;
  const size = whole(flag, (kind === 'tp' ? f.tp : f.pp)!);
  const micro = f['micro-batches'] === undefined ? undefined : whole('--micro-batches', f['micro-batches']);
  if (f.resume)
    throw new ModelParallelError(`--resume is not supported with ${flag}: a ${flag} run starts fresh in a new runDir`);
  if (f.rank !== undefined || f['world-size'] !== undefined || f.master !== undefined)
    throw new ModelParallelError(`${flag} runs on worker threads of this process: drop --rank/--world-size/--master`);
  const devices = f.devices ?? `cpu:${size}`;
  if (!/^\s*cpu(:\d+)?\s*$/i.test(devices))
    throw new ModelParallelError(`${flag} runs on CPU worker threads: give --devices cpu:K (K a multiple of ${size})`);
  return { kind, size, micro, devices };
}
