// The demos' way of running flowlm steps: each `flowlm ...` command a child process of its own (its
// summary's peak RSS is its own, and a step fails the way a user's command would), stderr passed
// through, the JSON summary (`--json`, the last stdout line) parsed with the fields a demo reads; and
// what a run started from a checkpoint must restate of it (its model config, encoding, context).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { loadCheckpoint } from '../src/nn/checkpoint/index.ts';

const bin = fileURLToPath(new URL('../src/cli/bin.js', import.meta.url));
export const trainSpecFile = fileURLToPath(new URL('./train-tiny.ts', import.meta.url));

/** `flowlm prep` of the demos' data: the embedded corpus in GPT-2 tokens, rows of 128, the held-out
 * evaluation text's documents left out (pipelines/demo.ts's step 1). */
export const demoPrepArgs = (out: string): string[] => [
  'prep',
  '--out',
  out,
  '--encoding',
  'gpt2',
  '--seq-len',
  '128',
  '--decontaminate',
  'heldout-perplexity',
  '--progress',
  'none',
];

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

/** What a run from checkpoint `dir` must restate: its model config (as --set model.K=V), encoding, context. */
export async function recordedSettings(dir: string) {
  const ck = await loadCheckpoint(dir);
  const Recorded = z.object({ modelConfig: z.record(z.string(), z.unknown()), encoding: z.string().default('gpt2') });
  const r = Recorded.parse(ck.state.config);
  return {
    dir: ck.dir,
    step: ck.step,
    encoding: r.encoding,
    seqLen: Number(r.modelConfig.contextLength),
    modelSets: Object.entries(r.modelConfig).map(([k, v]) => `model.${k}=${JSON.stringify(v)}`),
  };
}
