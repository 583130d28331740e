// One tensor-parallel rank's part of a GPT: its shard of every parameter (tensor-shard.ts) as
// tf.Variables under GPT-2's names, the way Gpt holds the whole model, so AdamW can update it.
import * as tf from '@tensorflow/tfjs';
import { jsKernelsPreferred } from '../backend/backend.ts';
import { gptConfig, type GptConfig, type GptConfigInput } from '../model/config.ts';
import { sizeOf } from '../model/params.ts';
import { shardParams, tensorShardSpecs, type TensorShardSpec } from './tensor-shard.ts';

let shardCount = 0;

export class TensorShardModel {
  readonly config: GptConfig;
  readonly tp: number;
  readonly rank: number;
  readonly specs: TensorShardSpec[];
  readonly params = new Map<string, tf.Variable>();
  /** the JS kernels (layer norm, GELU, attention core) where tensors are local, as Gpt chooses */
  readonly js: boolean;

  /** Rank `rank` of `tp`, its values cut from the full model's (e.g. `Gpt.getParams()`). */
  constructor(config: GptConfigInput, full: ReadonlyMap<string, Float32Array>, tp: number, rank: number) {
    this.config = gptConfig(config);
    this.tp = tp;
    this.rank = rank;
    this.specs = tensorShardSpecs(this.config, tp);
    this.js = jsKernelsPreferred();
    const values = shardParams(this.config, full, tp, rank);
    const id = shardCount++;
    for (const s of this.specs) {
      const v = values.get(s.name)!;
      // tfjs variable names are process-global: prefixed so several shards can share a thread
      this.params.set(
        s.name,
        tf.tidy(() => tf.variable(tf.tensor(v, s.shape, 'float32'), true, `tp${id}/${s.name}`)),
      );
    }
  }

  param(name: string): tf.Variable {
    const p = this.params.get(name);
    if (!p) throw new Error(`TensorShardModel: no parameter ${name} (rank ${this.rank} of ${this.tp})`);
    return p;
  }

  /** This rank's rows of the matrix that scores tokens: the token embedding when tied. */
  headMatrix(): tf.Variable {
    return this.param(this.config.tiedHead ? 'wte.weight' : 'lm_head.weight');
  }

  /** Copies of this shard's values, by name, in `specs` order (unshardParams joins the ranks'). */
  getParams(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const s of this.specs) out.set(s.name, Float32Array.from(this.param(s.name).dataSync() as Float32Array));
    return out;
  }

  numParams(): number {
    return this.specs.reduce((n, s) => n + sizeOf(s.shape), 0);
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }
}
