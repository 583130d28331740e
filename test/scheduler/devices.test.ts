// --devices parsing and resolution against a probed machine: nvidia-smi output (or its absence) and
// the GPU backend are injected, so every branch runs here without a GPU.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  DeviceError,
  detectGpus,
  gpuBackend,
  parseDevices,
  resolveDevices,
  type DeviceProbe,
  type Gpu,
} from '../../src/scheduler/devices.ts';

const SMI =
  'GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-5d1e2c3a-0000-1111-2222-333344445555)\nGPU 1: NVIDIA A100-SXM4-40GB (UUID: GPU-9f8e7d6c-0000-1111-2222-333344445555)\n';
const noBackend = {
  ok: false as const,
  reason: '@tensorflow/tfjs-node-gpu is not installed (npm install @tensorflow/tfjs-node-gpu)',
};
const probe = (gpus: Gpu[], backendOk: boolean, cores = 3): Partial<DeviceProbe> => ({
  gpus: async () => gpus,
  backend: async () => (backendOk ? { ok: true } : noBackend),
  cores: () => cores,
});
const twoGpus: Gpu[] = [
  { id: 0, name: 'NVIDIA A100-SXM4-40GB' },
  { id: 1, name: 'NVIDIA A100-SXM4-40GB' },
];

const installed = (() => {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node-gpu');
    return true;
  } catch {
    return false;
  }
})();

describe('parseDevices', () => {
  it('accepts auto, cpu:N, gpu:all and gpu id lists', () => {
    expect(parseDevices('auto')).toEqual({ kind: 'auto' });
    expect(parseDevices('cpu:4')).toEqual({ kind: 'cpu', count: 4 });
    expect(parseDevices(' CPU:2 ')).toEqual({ kind: 'cpu', count: 2 });
    expect(parseDevices('cpu')).toEqual({ kind: 'cpu', count: 1 });
    expect(parseDevices('gpu:all')).toEqual({ kind: 'gpu', ids: 'all' });
    expect(parseDevices('gpu:0,1')).toEqual({ kind: 'gpu', ids: [0, 1] });
    expect(parseDevices('gpu:3')).toEqual({ kind: 'gpu', ids: [3] });
  });

  it('rejects anything else with a message listing the accepted forms', () => {
    for (const bad of ['cpu:x', 'tpu:1', 'gpu:', 'gpu:0,,1', '2', '']) {
      expect(() => parseDevices(bad)).toThrow(DeviceError);
      expect(() => parseDevices(bad)).toThrow(/--devices expects auto, cpu:N .* gpu:all or gpu:ID/);
    }
    expect(() => parseDevices('cpu:0')).toThrow(/number of CPU workers must be 1 to 256/);
    expect(() => parseDevices('gpu:1,0,1')).toThrow(/GPU 1 is listed twice/);
  });
});

describe('detectGpus', () => {
  it('parses nvidia-smi -L', async () => {
    const calls: string[][] = [];
    const gpus = await detectGpus(async (cmd, args) => {
      calls.push([cmd, ...args]);
      return SMI;
    });
    expect(calls).toEqual([['nvidia-smi', '-L']]);
    expect(gpus).toEqual(twoGpus);
  });

  it('finds none when nvidia-smi is missing, fails or lists nothing', async () => {
    const missing = Object.assign(new Error('spawn nvidia-smi ENOENT'), { code: 'ENOENT' });
    expect(
      await detectGpus(async () => {
        throw missing;
      }),
    ).toEqual([]);
    expect(
      await detectGpus(async () => {
        throw new Error('NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver');
      }),
    ).toEqual([]);
    expect(await detectGpus(async () => 'No devices were found\n')).toEqual([]);
  });
});

describe('resolveDevices', () => {
  it('cpu:N gives N worker-thread devices whatever the machine has', async () => {
    const r = await resolveDevices(parseDevices('cpu:2'), probe(twoGpus, true));
    expect(r).toEqual({
      kind: 'cpu',
      devices: [
        { kind: 'cpu', index: 0, label: 'cpu:0' },
        { kind: 'cpu', index: 1, label: 'cpu:1' },
      ],
    });
  });

  it('auto: the GPUs when the backend and hardware are both there', async () => {
    const r = await resolveDevices({ kind: 'auto' }, probe(twoGpus, true));
    expect(r.kind).toBe('gpu');
    expect(r.devices.map((d) => d.label)).toEqual(['gpu:0 (NVIDIA A100-SXM4-40GB)', 'gpu:1 (NVIDIA A100-SXM4-40GB)']);
  });

  it('auto: one CPU worker per core otherwise, saying why', async () => {
    const noLib = await resolveDevices({ kind: 'auto' }, probe(twoGpus, false, 3));
    expect(noLib.devices.map((d) => d.label)).toEqual(['cpu:0', 'cpu:1', 'cpu:2']);
    expect(noLib.note).toMatch(/no GPU backend \(@tensorflow\/tfjs-node-gpu is not installed\).*3 CPU worker threads/);
    const noCard = await resolveDevices({ kind: 'auto' }, probe([], true, 1));
    expect(noCard.devices).toEqual([{ kind: 'cpu', index: 0, label: 'cpu:0' }]);
    expect(noCard.note).toMatch(/no GPU found by nvidia-smi -L/);
  });

  it('gpu specs: a clear error without the backend or the GPUs; ids must exist', async () => {
    await expect(resolveDevices(parseDevices('gpu:all'), probe(twoGpus, false))).rejects.toThrow(
      /^no GPU backend is available: @tensorflow\/tfjs-node-gpu is not installed/,
    );
    await expect(resolveDevices(parseDevices('gpu:0'), probe([], true))).rejects.toThrow(/no GPU found: nvidia-smi -L/);
    await expect(resolveDevices(parseDevices('gpu:0,3'), probe(twoGpus, true))).rejects.toThrow(
      /no GPU 3 \(nvidia-smi -L lists 0, 1\)/,
    );
    const r = await resolveDevices(parseDevices('gpu:1'), probe(twoGpus, true));
    expect(r.devices).toEqual([{ kind: 'gpu', index: 1, label: 'gpu:1 (NVIDIA A100-SXM4-40GB)' }]);
  });

  it.skipIf(installed)('this machine: the backend check says tfjs-node-gpu is not installed', async () => {
    const b = await gpuBackend();
    expect(b.ok).toBe(false);
    expect(b.ok ? '' : b.reason).toMatch(/^@tensorflow\/tfjs-node-gpu is not installed/);
    await expect(resolveDevices(parseDevices('gpu:all'))).rejects.toThrow(
      'no GPU backend is available: @tensorflow/tfjs-node-gpu is not installed',
    );
  });
});
