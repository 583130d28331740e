// The demos' way of running flowlm steps: each `flowlm ...` command a child process of its own (its
// summary's peak RSS is its own, and a step fails the way a user's command would), stderr passed
// through, the JSON summary (`--json`, the last stdout line) parsed with the fields a demo reads.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const bin = fileURLToPath(new URL('../src/cli/bin.js', import.meta.url));
export const trainSpecFile = fileURLToPath(new URL('./train-tiny.ts', import.meta.url));

/** flowlm with these arguments as a child process (stderr passed through); its stdout. */
export function flowlm(args: string[], where = 'demo'): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.on('error', fail);
    child.on('close', (code) =>
      code === 0 ? done(out) : fail(new Error(`${where}: flowlm ${args.slice(0, 2).join(' ')} exited ${code}`)),
    );
  });
}

/** What the demos read of `flowlm train --json`'s summary. */
export const TrainSummary = z.object({
  step: z.number(),
  params: z.number(),
  trainableParams: z.number().optional(),
  tokensPerS: z.number(),
  durationMs: z.number(),
  finalLoss: z.number().nullable(),
  peakRssMb: z.number().optional(),
  checkpoint: z.string(),
  runDir: z.string(),
  val: z
    .object({ loss: z.number().nullable().optional(), accuracy: z.number().optional(), pairs: z.number().optional() })
    .passthrough()
    .nullable()
    .optional(),
});
export type TrainSummary = z.output<typeof TrainSummary>;

/** `flowlm train pipelines/train-tiny.ts --json` with these --set overrides on `devices`. */
export async function trainTiny(sets: string[], devices: string, where = 'demo'): Promise<TrainSummary> {
  const args = ['train', trainSpecFile, '--devices', devices, '--json', '--every', '10'];
  const stdout = await flowlm([...args, ...sets.flatMap((s) => ['--set', s])], where);
  return TrainSummary.parse(JSON.parse(stdout.trim().split('\n').at(-1)!));
}
