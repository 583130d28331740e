// A replica's validation on rank 0, by objective: plain NLL per target token whatever the training label
// smoothing (bits per byte with `tokenBytes`), the masked-token loss under masks fixed per validation
// batch, or, for preference pairs, the objective's loss, accuracy and margin on held-out pairs.
import { evaluate, type EvalOptions, type EvalResult } from '../eval/evaluate.ts';
import { evaluateMasked } from '../eval/masked-eval.ts';
import { evaluatePairs } from '../eval/preference-eval.ts';
import type { Gpt } from '../model/gpt.ts';
import type { PackedBatch } from '../objective/loss.ts';
import { maskingOf, objectiveOf } from './objective.ts';
import type { PairObjective } from './pair-objective.ts';
import type { TrainConfig } from './train-config.ts';

export async function validate(
  cfg: TrainConfig,
  model: Gpt,
  reference: Gpt | undefined,
  val: AsyncIterable<PackedBatch>,
  o: EvalOptions,
  log: (message: string) => void,
): Promise<EvalResult> {
  if (cfg.objective === 'reward' || cfg.objective === 'dpo') {
    // held-out pairs: the objective's loss, accuracy and margin (preference-eval.ts)
    const objective = objectiveOf(cfg, model.config, reference) as PairObjective;
    const p = await evaluatePairs(model, val, cfg.evalBatches, objective);
    log(
      `val ${p.objective} loss ${p.loss.toFixed(4)}, accuracy ${p.accuracy.toFixed(4)}, margin ` +
        `${p.margin.toFixed(4)} (${p.pairs} pairs)`,
    );
    return p;
  }
  // masked LM: the masked-token loss under masks fixed per validation batch (masked-eval.ts)
  const r =
    cfg.objective === 'masked'
      ? await evaluateMasked(model, val, cfg.evalBatches, maskingOf(cfg, model.config), cfg.seed)
      : await evaluate(model, val, cfg.evalBatches, o);
  const bpb = r.bitsPerByte === undefined ? '' : `, ${r.bitsPerByte.toFixed(4)} bits/byte`;
  log(`val loss ${r.loss.toFixed(4)}, perplexity ${r.perplexity.toFixed(2)}${bpb}`);
  return r;
}
