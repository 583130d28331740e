// A reference training loop for tests only: the stages of a replica called in order (forward-backward,
// all-reduce, optimizer step, evaluation, checkpoint), as plain code. The graph of training operators
// (operators/train/, run by the scheduler) must give exactly what this gives; flowlm itself has one
// implementation of the chain, the graph.
import { initBackend } from '../../src/nn/backend/backend.ts';
import { singleRank } from '../../src/nn/train/dist.ts';
import type { PackedBatch } from '../../src/nn/objective/loss.ts';
import { TrainReplica } from '../../src/nn/train/replica.ts';
import type { TrainConfig } from '../../src/nn/train/train-config.ts';
import { StepTally } from '../../src/nn/train/train-tally.ts';
import type { TrainBatch, TrainData, TrainHooks, TrainResult } from '../../src/nn/train/trainer.ts';

const everyN = (n: number, step: number, last: number) => step === last || (n > 0 && step % n === 0);

export async function train(cfg: TrainConfig, data: TrainData, hooks: TrainHooks = {}): Promise<TrainResult> {
  const backend = await initBackend();
  const dist = hooks.dist ?? singleRank();
  const lead = dist.rank === 0;
  const log = lead && hooks.log ? hooks.log : () => undefined;
  let replica: TrainReplica | undefined;
  let it: AsyncIterator<TrainBatch> | undefined;
  try {
    const rep = (replica = await TrainReplica.open(cfg, { dist, resume: hooks.resume, log }));
    const tally = new StepTally(rep);
    it = data.train(rep.cursor)[Symbol.asyncIterator]();
    while (rep.step < cfg.steps) {
      const micro: PackedBatch[] = [];
      let cursor: unknown;
      while (micro.length < cfg.gradAccum) {
        const r = await it.next();
        if (r.done)
          throw new Error(
            `train: the training data ran out at step ${rep.step + 1} of ${cfg.steps}; use more epochs or fewer steps`,
          );
        micro.push(r.value.batch);
        cursor = r.value.cursor;
      }
      const r = await rep.optimizerStep(await rep.allReduce(rep.forwardBackward(micro)), cursor);
      const step = r.step;
      const p = tally.add(r);
      if (lead) {
        await hooks.onMetrics?.({
          step,
          split: 'train',
          values: { loss: r.loss, lr: r.lr, grad_norm: r.gradNorm, tokens_per_s: p.tokensPerS },
        });
        hooks.onStep?.(p);
      }
      // a stop request reaches one rank (the main thread's signal); every rank stops after this step
      tally.stopped = await rep.endStep(hooks.signal?.aborted === true);
      const last = tally.stopped ? step : cfg.steps;
      if (data.val && everyN(cfg.evalEvery, step, last)) {
        const v = await rep.evaluate(data.val());
        if (v) {
          tally.val = v;
          await hooks.onMetrics?.({ step, split: 'val', values: { loss: v.loss, perplexity: v.perplexity } });
        }
      }
      if (everyN(cfg.checkpointEvery, step, last)) tally.checkpoint = (await rep.checkpoint()) ?? tally.checkpoint;
      if (tally.stopped) break;
      // in-memory data resolves in microtasks and a step at world size 1 never waits on I/O: without a
      // turn of the event loop, signals (a stop request), timers and the metrics file writes would
      // wait for the run's end
      await new Promise((res) => setImmediate(res));
    }
    return tally.result(backend.name);
  } catch (err) {
    // peers blocked in a collective would otherwise wait for this rank forever
    if (dist.worldSize > 1) dist.collective.abort(err instanceof Error ? err : new Error(String(err)));
    throw err;
  } finally {
    await it?.return?.();
    replica?.dispose();
  }
}
