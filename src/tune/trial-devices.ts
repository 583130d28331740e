// The devices of each of K parallel trials: `cpu:N` gives each trial cpu:N/K (threads of its own
// process), a GPU list gives each trial its share of the GPUs; the trial runs with that --devices.
export class TrialDevicesError extends Error {
  override name = 'TrialDevicesError';
}

export function trialDevices(devices: string, parallel: number): string[] {
  const cpu = /^cpu:(\d+)$/.exec(devices);
  if (cpu) {
    const n = Number(cpu[1]);
    if (n < parallel)
      throw new TrialDevicesError(
        `--devices ${devices} has fewer cores than --parallel ${parallel} trials; give cpu:${parallel} or more`,
      );
    return Array.from({ length: parallel }, () => `cpu:${Math.floor(n / parallel)}`);
  }
  const gpu = /^gpu:(\d+(?:,\d+)*)$/.exec(devices);
  if (gpu) {
    const ids = gpu[1]!.split(',');
    if (ids.length % parallel !== 0)
      throw new TrialDevicesError(
        `--devices ${devices}: ${ids.length} GPUs do not split into ${parallel} equal trials`,
      );
    const per = ids.length / parallel;
    return Array.from({ length: parallel }, (_, i) => `gpu:${ids.slice(i * per, (i + 1) * per).join(',')}`);
  }
  throw new TrialDevicesError(
    `--devices ${devices}: flowlm tune splits cpu:N or gpu:i,j,... among its parallel trials`,
  );
}
