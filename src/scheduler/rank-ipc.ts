// What a launcher (launch-processes.ts) and the rank processes it forked say over the IPC channel.
import type { TrainPipelineResult } from '../nn/train/trainer.ts';

export type LauncherToChild = { type: 'stop' };
export type ChildToLauncher = { type: 'result'; result: TrainPipelineResult };

/** In a process forked by a launcher: calls `onStop` when the launcher asks to stop; returns a
 * function that stops listening. Without an IPC channel (started by hand or by torchrun) it does nothing. */
export function listenForStop(onStop: () => void): () => void {
  if (!process.send) return () => undefined;
  const handler = (m: unknown) => {
    if (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'stop') onStop();
  };
  // a launcher that went away cannot collect the result: stop after the step, with a checkpoint
  const gone = () => onStop();
  process.on('message', handler);
  process.on('disconnect', gone);
  // the channel must not keep a finished rank alive
  process.channel?.unref();
  return () => {
    process.off('message', handler);
    process.off('disconnect', gone);
  };
}

/** In a forked rank: hands the result to the launcher (resolves once it is sent); no-op without a channel. */
export function sendResult(result: TrainPipelineResult): Promise<void> {
  const send = process.send?.bind(process);
  if (!send || !process.connected) return Promise.resolve();
  return new Promise((resolve) => {
    send({ type: 'result', result } satisfies ChildToLauncher, undefined, {}, () => resolve());
  });
}
