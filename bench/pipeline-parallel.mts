// Pipeline parallelism's bubble, measured: P stages on worker threads (src/nn/parallel/pipeline-step.ts,
// 1F1B) train the pipeline tests' GPT (vocabulary 1000, context 32, 4 layers; dModel from the args)
// on micro-batches of 2 rows x 32 tokens, and each stage reports the fraction of its schedule's time it
// spent waiting for its neighbours. Printed per M: the theoretical bubble (P-1)/(M+P-1) and the
// median over steps (the first, warm-up, step left out) of the mean over stages, and each stage's
// median. Each stage's backward runs its forward again (segment.ts), so a backward costs about two
// forwards rather than the one the formula assumes (t_f = t_b), and a small model's sends and
// wake-ups are a visible part of each slot. With more stages than cores the stages share cores
// and the measured idle time is not the schedule's. Args: stages=2 steps=6 d=64 micro=1,2,4,8
import { availableParallelism } from 'node:os';
import { runThreadGrid } from '../test/nn/parallel/fixtures/pipeline-threads.ts';
import { CONFIG } from '../test/nn/parallel/fixtures/pipeline-data.ts';

const arg = (args: string[], name: string, dflt: string) =>
  args.find((x) => x.startsWith(`${name}=`))?.slice(name.length + 1) ?? dflt;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const h = Math.floor(s.length / 2);
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};
const r3 = (x: number) => Math.round(x * 1000) / 1000;

export default async function (args: string[]): Promise<Record<string, unknown>> {
  const stages = Number(arg(args, 'stages', '2'));
  const steps = Number(arg(args, 'steps', '6'));
  const dModel = Number(arg(args, 'd', '64'));
  const micros = arg(args, 'micro', '1,2,4,8').split(',').map(Number);
  if (!(steps >= 2)) throw new Error('bench pipeline-parallel: steps must be at least 2 (the first is warm-up)');
  const rows: Record<string, unknown>[] = [];
  for (const micro of micros) {
    const replies = await runThreadGrid({ stages, dp: 1, steps, micro, config: { ...CONFIG, dModel } });
    const done = replies.map((r) => {
      if (r.kind !== 'done') throw new Error(`bench pipeline-parallel: stage ${r.stage} failed: ${r.message}`);
      return r;
    });
    const measured = done[0]!.results.slice(1).map((x) => x.bubble.measured);
    const perStage = Array.from({ length: stages }, (_, s) =>
      r3(median(done[0]!.results.slice(1).map((x) => x.bubble.perStage[s]!))),
    );
    const row = {
      micro,
      theoretical: r3(done[0]!.results[0]!.bubble.theoretical),
      measured: r3(median(measured)),
      perStage,
    };
    console.log(
      `P=${stages} M=${micro}: bubble theoretical ${row.theoretical}, measured ${row.measured} (per stage ${perStage.join(', ')})`,
    );
    rows.push(row);
  }
  return { stages, dModel, steps, cores: availableParallelism(), rows };
}
