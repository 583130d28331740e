// A scalar head on the transformer's final hidden states: a linear d -> 1. As a reward model it
// scores each row at its last real token (Hugging Face's GPT2ForSequenceClassification reads the
// last non-padding position; TRL's RewardTrainer trains that score); as a PPO value head it predicts
// a value at every position (TRL's AutoModelForCausalLMWithValueHead `v_head`). Its two tensors are
// tf.Variables of their own, beside a Gpt's, so one tf.variableGrads call can train both.
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../runtime/rng.ts';
import { fillNormal, sizeOf } from './params.ts';
import { scalarHeadSpecs, type ScalarHeadKind, type ScalarHeadSpec } from './scalar-head-specs.ts';

// their old home: importers of scalar-head.ts keep working
export {
  scalarHeadPrefix,
  scalarHeadSpecs,
  type ScalarHeadKind,
  type ScalarHeadSpec,
} from './scalar-head-specs.ts';

export interface ScalarHeadOptions {
  kind: ScalarHeadKind;
  /** initial weights are N(0, std) from this seed (bias 0) */
  seed?: number;
  /** default 0.02, GPT-2's initializer_range: scores start near 0, so the pairwise loss starts at ln 2 */
  std?: number;
  /** given values replace the drawn ones (loading a trained head) */
  values?: Map<string, Float32Array>;
}

let headCount = 0;

export class ScalarHead {
  readonly kind: ScalarHeadKind;
  readonly specs: ScalarHeadSpec[];
  readonly params: Map<string, tf.Variable>;

  constructor(d: number, opts: ScalarHeadOptions) {
    this.kind = opts.kind;
    this.specs = scalarHeadSpecs(d, opts.kind, opts.std);
    const rng = new Rng(opts.seed ?? 0);
    const id = headCount++;
    this.params = new Map();
    for (const s of this.specs) {
      const v = new Float32Array(sizeOf(s.shape));
      if (typeof s.init === 'object' && 'normal' in s.init) fillNormal(rng, v, s.init.normal);
      // tfjs variable names are process-global: the counter lets several heads coexist
      this.params.set(s.name, tf.variable(tf.tensor(v, s.shape, 'float32'), true, `scalarHead${id}/${s.name}`));
    }
    if (opts.values) this.setParams(opts.values);
  }

  get weight(): tf.Variable {
    return this.params.get(this.specs[0]!.name)!;
  }

  get bias(): tf.Variable {
    return this.params.get(this.specs[1]!.name)!;
  }

  /** Scores h W + b of the rows `rows` of hidden [n, d] (all rows when omitted): [rows] */
  forward(hidden: tf.Tensor2D, rows?: Int32Array): tf.Tensor1D {
    const [n, d] = hidden.shape;
    if (d !== this.weight.shape[0])
      throw new Error(`scalar head ${this.kind}: hidden width ${d} but the head was made for ${this.weight.shape[0]}`);
    return tf.tidy(() => {
      let h = hidden;
      if (rows) {
        for (const r of rows)
          if (!(r >= 0 && r < n)) throw new Error(`scalar head ${this.kind}: row ${r} outside the ${n} hidden rows`);
        h = tf.gather(hidden, tf.tensor1d(rows, 'int32'));
      }
      return tf.add(tf.matMul(h, this.weight as tf.Tensor2D), this.bias).reshape([-1]) as tf.Tensor1D;
    });
  }

  /** Reward model: one score per row of hidden [batch * seqLen, d], at `lastIndex[b]` of row b. */
  lastTokenScores(hidden: tf.Tensor2D, seqLen: number, lastIndex: Int32Array): tf.Tensor1D {
    const rows = Int32Array.from(lastIndex, (t, b) => {
      if (!(t >= 0 && t < seqLen))
        throw new Error(`scalar head: last index ${t} of row ${b} is outside [0, ${seqLen}); check the attention mask`);
      return b * seqLen + t;
    });
    return this.forward(hidden, rows);
  }

  /** Value head: a value at every position, [batch * seqLen] row-major. */
  values(hidden: tf.Tensor2D): tf.Tensor1D {
    return this.forward(hidden);
  }

  getParams(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [name, v] of this.params) out.set(name, Float32Array.from(v.dataSync() as Float32Array));
    return out;
  }

  setParams(values: Map<string, Float32Array>): void {
    for (const [name, v] of values) {
      const p = this.params.get(name);
      if (!p) throw new Error(`scalar head ${this.kind}: no parameter ${name}; known: ${[...this.params.keys()]}`);
      if (v.length !== p.size) throw new Error(`scalar head: ${name} has ${v.length} values, expected ${p.size}`);
      tf.tidy(() => p.assign(tf.tensor(v.slice(), p.shape, 'float32')));
    }
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }
}

/** Each row's last real position from a row-major [batch, seqLen] attention mask (1 real, 0 padding);
 * a row without real tokens is an error. Left or right padding both work. */
export function lastRealIndex(mask: ArrayLike<number>, batch: number, seqLen: number): Int32Array {
  if (mask.length !== batch * seqLen)
    throw new Error(`lastRealIndex: mask has ${mask.length} values, expected batch ${batch} x seqLen ${seqLen}`);
  const out = new Int32Array(batch);
  for (let b = 0; b < batch; b++) {
    let last = -1;
    for (let t = 0; t < seqLen; t++) if (mask[b * seqLen + t]) last = t;
    if (last < 0) throw new Error(`lastRealIndex: row ${b} has no real token (its mask is all 0)`);
    out[b] = last;
  }
  return out;
}
