// A training pipeline on resolved devices, the way `flowlm train --devices` runs it: one process per
// GPU, one worker thread per CPU device when there are several, or this thread for a single CPU
// device (where the output head's helper thread may use a second core). Scripts such as the demo use
// it too, so they get the same placement as the command.
import type { StepProgress, TrainPipelineResult } from '../nn/train/trainer.ts';
import type { ResolvedDevices } from './devices.ts';
import { launchProcesses } from './launch-processes.ts';
import { launchThreads } from './launch-threads.ts';
import { loadTrainModule } from './load-train-pipeline.ts';
import type { PhysicalPlan } from './plan-types.ts';

export interface TrainOnDevicesOptions {
  /** the training pipeline module */
  file: string;
  sets: string[];
  resume: boolean;
  hooks: { log?(line: string): void; onStep?(p: StepProgress): void; signal?: AbortSignal };
  /** progress every N steps (passed to GPU processes, which print their own) */
  every?: number;
  /** the physical plan (a spec file): every rank runs it */
  plan?: PhysicalPlan;
}

export async function trainOnDevices(d: ResolvedDevices, o: TrainOnDevicesOptions): Promise<TrainPipelineResult> {
  const { file, sets, resume, hooks } = o;
  const worldSize = d.devices.length;
  if (d.kind === 'gpu') {
    const args = [
      ...sets.flatMap((s) => ['--set', s]),
      ...(resume ? ['--resume'] : []),
      '--every',
      String(o.every ?? 1),
    ];
    return launchProcesses({ file, devices: d.devices, args, hooks: { signal: hooks.signal } });
  }
  const { run } = await loadTrainModule(file, o.plan); // a bad module fails here once, not in N threads
  if (worldSize > 1) return launchThreads({ file, worldSize, sets, resume, hooks, plan: o.plan });
  return run({ sets, resume, hooks });
}
