// Where training replicas run: `--devices auto | cpu:N | gpu:all | gpu:0,1`. A CPU device is a worker
// thread with its own tfjs backend (one core each); a GPU device is a child process that sees one GPU
// (CUDA_VISIBLE_DEVICES) and trains with @tensorflow/tfjs-node-gpu. GPUs are found with
// `nvidia-smi -L`; the probe is injectable so tests (and machines without a driver) need no GPU.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { z } from 'zod';

export type DeviceSpec = { kind: 'auto' } | { kind: 'cpu'; count: number } | { kind: 'gpu'; ids: 'all' | number[] };

export interface Device {
  kind: 'cpu' | 'gpu';
  /** CPU: the worker thread's rank; GPU: the id nvidia-smi lists (CUDA_VISIBLE_DEVICES) */
  index: number;
  /** e.g. cpu:1, gpu:0 (NVIDIA A100-SXM4-40GB) */
  label: string;
}

export interface ResolvedDevices {
  kind: 'cpu' | 'gpu';
  devices: Device[];
  /** why `auto` chose what it chose */
  note?: string;
}

/** A bad --devices value, or devices that are not there: the CLI reports it as bad usage (exit 2). */
export class DeviceError extends Error {
  override readonly name = 'DeviceError';
}

export const GPU_PACKAGE = '@tensorflow/tfjs-node-gpu';
const FORMS = 'auto, cpu:N (N worker threads, N >= 1), gpu:all or gpu:ID[,ID...] (e.g. gpu:0,1)';

const deviceSpecSchema = z.string().transform((raw, ctx): DeviceSpec => {
  const text = raw.trim().toLowerCase();
  if (text === 'auto') return { kind: 'auto' };
  const cpu = /^cpu(?::(\d+))?$/.exec(text);
  if (cpu) {
    const count = cpu[1] === undefined ? 1 : Number(cpu[1]);
    if (count >= 1 && count <= 256) return { kind: 'cpu', count };
    ctx.addIssue({ code: 'custom', message: `--devices ${raw}: the number of CPU workers must be 1 to 256` });
    return z.NEVER;
  }
  if (text === 'gpu' || text === 'gpu:all') return { kind: 'gpu', ids: 'all' };
  const gpu = /^gpu:(\d+(?:,\d+)*)$/.exec(text);
  if (gpu) {
    const ids = gpu[1]!.split(',').map(Number);
    const dup = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dup === undefined) return { kind: 'gpu', ids };
    ctx.addIssue({ code: 'custom', message: `--devices ${raw}: GPU ${dup} is listed twice` });
    return z.NEVER;
  }
  ctx.addIssue({ code: 'custom', message: `--devices expects ${FORMS}; got "${raw}"` });
  return z.NEVER;
});

/** Parses a --devices value; throws a DeviceError saying which forms are accepted. */
export function parseDevices(text: string): DeviceSpec {
  const r = deviceSpecSchema.safeParse(text);
  if (!r.success) throw new DeviceError(r.error.issues.map((i) => i.message).join('; '));
  return r.data;
}

export interface Gpu {
  id: number;
  name: string;
}

/** Runs a command; resolves with its stdout, rejects when it is missing or fails. */
export type CommandRunner = (cmd: string, args: string[]) => Promise<string>;

const execRunner: CommandRunner = (cmd, args) =>
  new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 10_000, windowsHide: true }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });

/** The GPUs `nvidia-smi -L` lists ("GPU 0: NVIDIA A100 (UUID: ...)"); none when it is absent or fails. */
export async function detectGpus(run: CommandRunner = execRunner): Promise<Gpu[]> {
  let out: string;
  try {
    out = await run('nvidia-smi', ['-L']);
  } catch {
    return [];
  }
  const gpus: Gpu[] = [];
  for (const line of out.split('\n')) {
    const m = /^GPU (\d+):\s*(.*?)\s*(?:\(UUID:.*\))?\s*$/.exec(line.trim());
    if (m) gpus.push({ id: Number(m[1]), name: m[2]! });
  }
  return gpus;
}

export type BackendCheck = { ok: true } | { ok: false; reason: string };

/** Whether tfjs-node-gpu is installed and its native binding loads. */
export async function gpuBackend(): Promise<BackendCheck> {
  let path: string;
  try {
    path = createRequire(import.meta.url).resolve(GPU_PACKAGE);
  } catch {
    return {
      ok: false,
      reason: `${GPU_PACKAGE} is not installed (npm install ${GPU_PACKAGE}, with CUDA and cuDNN on the machine)`,
    };
  }
  try {
    await import(path);
  } catch (err) {
    return {
      ok: false,
      reason: `${GPU_PACKAGE} is installed but does not load: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
    };
  }
  return { ok: true };
}

/** What resolution asks of the machine; tests replace any of it. */
export interface DeviceProbe {
  gpus(): Promise<Gpu[]>;
  backend(): Promise<BackendCheck>;
  cores(): number;
}

export const machineProbe: DeviceProbe = { gpus: () => detectGpus(), backend: gpuBackend, cores: availableParallelism };

const cpuDevices = (n: number): Device[] =>
  Array.from({ length: n }, (_, i) => ({ kind: 'cpu', index: i, label: `cpu:${i}` }));
const gpuDevice = (g: Gpu): Device => ({
  kind: 'gpu',
  index: g.id,
  label: `gpu:${g.id}${g.name ? ` (${g.name})` : ''}`,
});

/** The devices a spec names on this machine. GPUs need both the backend and the hardware; `auto` falls
 * back to one CPU worker thread per core and says why in `note`. */
export async function resolveDevices(spec: DeviceSpec, probe: Partial<DeviceProbe> = {}): Promise<ResolvedDevices> {
  const p: DeviceProbe = { ...machineProbe, ...probe };
  if (spec.kind === 'cpu') return { kind: 'cpu', devices: cpuDevices(spec.count) };
  const backend = await p.backend();
  if (spec.kind === 'auto') {
    const cores = Math.max(1, p.cores());
    const cpu = (why: string): ResolvedDevices => ({
      kind: 'cpu',
      devices: cpuDevices(cores),
      note: `auto: ${why}; ${cores} CPU worker thread${cores === 1 ? '' : 's'} (one per core)`,
    });
    if (!backend.ok) return cpu(`no GPU backend (${backend.reason.split(' (')[0]})`);
    const gpus = await p.gpus();
    if (gpus.length === 0) return cpu('no GPU found by nvidia-smi -L');
    return {
      kind: 'gpu',
      devices: gpus.map(gpuDevice),
      note: `auto: ${gpus.length} GPU${gpus.length === 1 ? '' : 's'}, one process each`,
    };
  }
  if (!backend.ok) throw new DeviceError(`no GPU backend is available: ${backend.reason}; use --devices cpu:N or auto`);
  const gpus = await p.gpus();
  if (gpus.length === 0)
    throw new DeviceError('no GPU found: nvidia-smi -L is missing, fails or lists none; use --devices cpu:N or auto');
  if (spec.ids === 'all') return { kind: 'gpu', devices: gpus.map(gpuDevice) };
  const missing = spec.ids.filter((id) => !gpus.some((g) => g.id === id));
  if (missing.length > 0)
    throw new DeviceError(
      `--devices gpu:${spec.ids.join(',')}: no GPU ${missing.join(', ')} (nvidia-smi -L lists ${gpus.map((g) => g.id).join(', ')})`,
    );
  return { kind: 'gpu', devices: spec.ids.map((id) => gpuDevice(gpus.find((g) => g.id === id)!)) };
}

/** Parse and resolve in one call (the CLI's path). */
export const devicesFor = (text: string, probe?: Partial<DeviceProbe>): Promise<ResolvedDevices> =>
  resolveDevices(parseDevices(text), probe);
