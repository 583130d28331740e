// Data-parallel training on CPU worker threads, through the real command (`flowlm train
// pipelines/train-tiny.ts --devices cpu:N`) on GPT-2-tokenized shards of the embedded corpus:
//  - throughput of the `tiny` config (vocab 50257, context 128, 4 layers, d_model 128, batch 8 per
//    replica) on cpu:1 and cpu:2, rounds alternating the order; tokens/s is taken between the end of
//    the first step and the end of the last (start-up, the first step's kernel set-up, the final
//    evaluation and checkpoint are not counted) from the run's metrics.jsonl. cpu:1 is one device = one
//    thread (no head helper thread), as each replica of cpu:2 is;
//  - equivalence: 20 steps of the `micro` config (with the GPT-2 vocabulary of the shards) at world size 2 (micro-batch 4, no accumulation),
//    with and without ZeRO-1, against world size 1 with 2 accumulation steps of 4: max |loss diff|.
// Args: rounds=2 steps=6 equiv_steps=20
import { availableParallelism, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { flowlmTrain, prepShards, tokensPerSecond } from './_flowlm-train-run.ts';
import { median } from './_median.ts';

const arg = (args: string[], name: string, dflt: string) =>
  args.find((x) => x.startsWith(`${name}=`))?.slice(name.length + 1) ?? dflt;
const int = (args: string[], name: string, dflt: number) => {
  const v = Number(arg(args, name, String(dflt)));
  if (!Number.isInteger(v) || v < 1)
    throw new Error(`bench ddp: ${name} must be a positive integer, got ${arg(args, name, '')}`);
  return v;
};
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

const maxDiff = (a: number[], b: number[]) => {
  if (a.length !== b.length || a.length === 0)
    throw new Error(`bench ddp: loss series of ${a.length} and ${b.length} steps`);
  return Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
};

export default async function ddpBench(args: string[]): Promise<Record<string, unknown>> {
  const rounds = int(args, 'rounds', 2);
  const steps = int(args, 'steps', 6);
  const equivSteps = int(args, 'equiv_steps', 20);
  const prep = resolve(arg(args, 'prep', 'out/bench/prep-gpt2-128'));
  prepShards(prep);
  const data = [
    `data.dir=${prep}`,
    'data.holdoutRows=64',
    'trainer.evalBatches=1',
    'trainer.evalEvery=0',
    'trainer.checkpointEvery=0',
    'trainer.keepLast=1',
  ];

  // -- throughput: tiny on 1 and 2 devices
  const tiny = [
    ...data,
    'model.preset="tiny"',
    'trainer.batchSize=8',
    'trainer.gradAccum=1',
    `trainer.steps=${steps}`,
    'model.dropout=0',
  ];
  const tokPerS: Record<1 | 2, number[]> = { 1: [], 2: [] };
  const cpuOne = { FLOWLM_HEAD_THREAD: '0' };
  for (let r = 0; r < rounds; r++) {
    for (const n of (r % 2 ? [2, 1] : [1, 2]) as Array<1 | 2>) {
      const f = await flowlmTrain('ddp', `cpu:${n}`, tiny, n === 1 ? cpuOne : {});
      const perS = tokensPerSecond('ddp', f, n * 8 * 128);
      tokPerS[n].push(perS);
      console.log(
        `round ${r + 1}, cpu:${n}: ${perS.toFixed(1)} tokens/s over steps 2-${f.stepTimes.length} (run ${(f.wallMs / 1000).toFixed(1)} s, backend ${String(f.summary.backend)})`,
      );
    }
  }

  // -- equivalence: world size 2 x micro-batch 4 vs world size 1 x 2 accumulation steps of 4
  const micro = [
    ...data,
    'model.preset="micro"',
    'model.vocabSize=50257',
    'trainer.batchSize=4',
    `trainer.steps=${equivSteps}`,
    'model.dropout=0',
  ];
  const ref = await flowlmTrain('ddp', 'cpu:1', [...micro, 'trainer.gradAccum=2'], cpuOne);
  const ddp = await flowlmTrain('ddp', 'cpu:2', [...micro, 'trainer.gradAccum=1']);
  const zero = await flowlmTrain('ddp', 'cpu:2', [...micro, 'trainer.gradAccum=1', 'optimizer.zero=true']);
  const diff = maxDiff(ref.losses, ddp.losses);
  const diffZero = maxDiff(ref.losses, zero.losses);
  console.log(
    `equivalence over ${equivSteps} steps: max |loss diff| ${diff.toExponential(2)} (ZeRO-1 ${diffZero.toExponential(2)}); losses ${ref.losses[0]!.toFixed(4)} -> ${ref.losses.at(-1)!.toFixed(4)}`,
  );

  const t1 = median(tokPerS[1]);
  const t2 = median(tokPerS[2]);
  return {
    bench: 'ddp',
    config: 'tiny',
    rounds,
    steps,
    batch_per_replica: 8,
    tokens_per_s_1: round(t1, 1),
    tokens_per_s_2: round(t2, 1),
    speedup_2_vs_1: round(t2 / t1),
    equiv_steps: equivSteps,
    max_loss_diff: Number(diff.toExponential(3)),
    max_loss_diff_zero1: Number(diffZero.toExponential(3)),
    cores: availableParallelism(),
    load_1m: round(loadavg()[0]!),
  };
}
