// A training pipeline as one child process per GPU (--devices gpu:*): each child is
// `flowlm train <file> --rank r --world-size W --master 127.0.0.1:<port>` with the same flags and
// CUDA_VISIBLE_DEVICES set to its GPU, so each sees one device; they meet over loopback sockets. The
// children print their own progress and errors (stderr is shared); the result and stop requests go
// over the IPC channel. One child failing stops the others and rejects with an error naming its rank.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CollectiveError } from '../runtime/collectives/collective.ts';
import type { TrainPipelineResult } from '../nn/train/trainer.ts';
import type { Device } from './devices.ts';
import type { ChildToLauncher, LauncherToChild } from './rank-ipc.ts';
import { freePort } from '../runtime/free-port.ts';

export interface LaunchProcessesOptions {
  file: string;
  devices: Device[];
  /** the flags every child gets besides its rank ones (--set ..., --resume, --every N) */
  args: string[];
  hooks?: { signal?: AbortSignal };
  /** after a failure, how long the others get to exit after SIGTERM before SIGKILL (default 2000 ms) */
  graceMs?: number;
  /** the executable script (default: flowlm's bin.js) */
  bin?: string;
}

const BIN = fileURLToPath(new URL('../cli/bin.js', import.meta.url));

// rank 0 listens on a free port
export { freePort };

export async function launchProcesses(o: LaunchProcessesOptions): Promise<TrainPipelineResult> {
  const worldSize = o.devices.length;
  if (worldSize < 1) throw new Error('launchProcesses: no devices');
  const port = await freePort();
  const graceMs = o.graceMs ?? 2000;
  return new Promise<TrainPipelineResult>((resolve, reject) => {
    const children: ChildProcess[] = [];
    const results = new Map<number, TrainPipelineResult>();
    const exited = new Set<number>();
    let failure: Error | undefined;
    let settled = false;
    const onStop = () => {
      for (const c of children) if (c.connected) c.send({ type: 'stop' } satisfies LauncherToChild);
    };
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      o.hooks?.signal?.removeEventListener('abort', onStop);
      if (err) reject(err);
      else resolve(results.get(0)!);
    };
    const fail = (rank: number, why: string) => {
      if (failure) return;
      failure = new CollectiveError(rank, `training rank ${rank} of ${worldSize} (${o.devices[rank]!.label}) ${why}`);
      children.forEach((c, r) => {
        if (!exited.has(r)) c.kill('SIGTERM');
      });
      const kill = setTimeout(
        () =>
          children.forEach((c, r) => {
            if (!exited.has(r)) c.kill('SIGKILL');
          }),
        graceMs,
      );
      kill.unref();
      if (exited.size === worldSize) settle(failure);
    };
    o.devices.forEach((device, rank) => {
      const args = [
        'train',
        o.file,
        ...o.args,
        '--rank',
        String(rank),
        '--world-size',
        String(worldSize),
        '--master',
        `127.0.0.1:${port}`,
      ];
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        LOCAL_RANK: String(rank),
        ...(device.kind === 'gpu' ? { CUDA_VISIBLE_DEVICES: String(device.index) } : {}),
      };
      const child = fork(o.bin ?? BIN, args, { env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      children.push(child);
      child.on('message', (m: ChildToLauncher) => {
        if (m.type === 'result') results.set(rank, m.result);
      });
      child.on('error', (err) => fail(rank, `could not run: ${err.message}`));
      child.on('exit', (code, signal) => {
        exited.add(rank);
        if (!results.has(rank))
          fail(rank, `exited ${signal ? `on ${signal}` : `with code ${code}`} before finishing (its error is above)`);
        if (failure) {
          if (exited.size === worldSize) settle(failure);
          return;
        }
        if (exited.size === worldSize)
          settle(results.has(0) ? undefined : new Error('training rank 0 finished without a result'));
      });
    });
    if (o.hooks?.signal?.aborted) onStop();
    o.hooks?.signal?.addEventListener('abort', onStop);
  });
}
