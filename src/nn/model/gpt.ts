// The GPT: token embedding plus learned or sinusoidal positions, `nLayer` blocks, final LayerNorm
// (pre-LN), and an output head that is the token embedding (tied) or lm_head.weight. Parameters are
// tf.Variables in a flat map under GPT-2's tensor names; the loss functions (loss.ts) apply the head.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../runtime/rng.ts';
import { attentionSpans } from './attention-mask.ts';
import type { ParamLookup } from './attention.ts';
import { loraProjection } from '../adapters/lora.ts';
import { prefixKeyValues, prefixLength, type PastKV } from '../adapters/prefix.ts';
import { virtualTokenCount, virtualTokenEmbeddings } from '../adapters/ptuning.ts';
import { jsKernelsPreferred } from '../backend/backend.ts';
import { block } from './block.ts';
import { checkpointedBlock } from './block-checkpoint.ts';
import { gptConfig, type GptConfig, type GptConfigInput } from './config.ts';
import { layerNorm } from './layer-norm.ts';
import { initialValues, paramSpecs, sizeOf, type ParamSpec } from './params.ts';
import { documentPositions, positionEmbeddings } from './positions.ts';
import { dropout } from './regularize.ts';

/** A batch of token rows for the model: `ids` is row-major [batch, seqLen]. */
export interface GptInput {
  ids: Int32Array;
  batch: number;
  seqLen: number;
  /** per row, positions where a new document starts (used when config.docMasking: attention stays
   * within a document and positions restart at each document's start) */
  docStarts?: ArrayLike<ArrayLike<number>>;
}

export interface ForwardOptions {
  /** training: dropout and DropPath masks are drawn from it; omit for evaluation */
  rng?: Rng;
}

let modelCount = 0;

export class Gpt {
  readonly config: GptConfig;
  readonly specs: ParamSpec[];
  readonly params: Map<string, tf.Variable>;
  /** the LoRA update is in the base weights (src/nn/adapters/merge.ts): the forward skips the adapters */
  loraMerged = false;
  /** 'js' runs layer norm, GELU and the attention core as JS kernels (wasm, cpu); 'tf' as tf ops */
  kernels: 'js' | 'tf';

  private constructor(config: GptConfig, values: Map<string, Float32Array>) {
    this.config = config;
    this.specs = paramSpecs(config);
    this.kernels = jsKernelsPreferred() ? 'js' : 'tf';
    const id = modelCount++;
    this.params = new Map();
    for (const s of this.specs) {
      const v = values.get(s.name);
      if (!v) throw new Error(`Gpt: no initial value for parameter ${s.name}`);
      // tfjs variable names are process-global: prefix them so several models can coexist
      this.params.set(
        s.name,
        tf.tidy(() => tf.variable(tf.tensor(v, s.shape, 'float32'), true, `gpt${id}/${s.name}`)),
      );
    }
  }

  /** A model with GPT-2 initialisation from `seed`, then any given parameter values on top (all of
   * them, as when resuming from a checkpoint: then nothing is drawn). */
  static create(config: GptConfigInput, opts: { seed?: number; values?: Map<string, Float32Array> } = {}): Gpt {
    const cfg = gptConfig(config);
    const given = opts.values;
    const complete = given !== undefined && paramSpecs(cfg).every((s) => given.has(s.name));
    const model = new Gpt(
      cfg,
      complete
        ? new Map(paramSpecs(cfg).map((s) => [s.name, new Float32Array(sizeOf(s.shape))]))
        : initialValues(cfg, opts.seed ?? 0),
    );
    if (given) model.setParams(given);
    return model;
  }

  param(name: string): tf.Variable {
    const p = this.params.get(name);
    if (!p) throw new Error(`Gpt: no parameter ${name}; known: ${[...this.params.keys()].slice(0, 6).join(', ')}...`);
    return p;
  }

  /** The matrix [vocab, d] whose rows score each token: the token embedding when tied. */
  headMatrix(): tf.Variable<tf.Rank.R2> {
    return this.param(this.config.tiedHead ? 'wte.weight' : 'lm_head.weight') as tf.Variable<tf.Rank.R2>;
  }

  numParams(): number {
    return this.specs.reduce((n, s) => n + sizeOf(s.shape), 0);
  }

  /** Final hidden states [batch * seqLen, d], ready for the head. Creates intermediate tensors:
   * call it inside tf.tidy or a gradient function (loss.ts does). */
  hidden(input: GptInput, opts: ForwardOptions = {}): tf.Tensor2D {
    const cfg = this.config;
    const { batch, seqLen, ids } = input;
    const d = cfg.dModel;
    if (ids.length !== batch * seqLen)
      throw new Error(`Gpt: ${ids.length} token ids for batch ${batch} x seqLen ${seqLen}`);
    // P-tuning v1's virtual tokens come before each row; a prefix takes the positions before the row's tokens
    const nv = virtualTokenCount(cfg);
    const np = prefixLength(cfg);
    if (seqLen > this.maxSeqLen())
      throw new Error(
        `Gpt: sequence length ${seqLen}${nv + np ? ` plus ${nv + np} virtual tokens (prefix/P-tuning)` : ''} exceeds the context length ${cfg.contextLength}; cut rows to at most ${this.maxSeqLen()}`,
      );
    for (let i = 0; i < ids.length; i++) {
      const t = ids[i]!;
      if (!(t >= 0 && t < cfg.vocabSize))
        throw new Error(
          `Gpt: token id ${t} at row ${Math.floor(i / seqLen)}, position ${i % seqLen} is outside the vocabulary ` +
            `[0, ${cfg.vocabSize})`,
        );
    }
    const js = this.kernels === 'js';
    const docs = cfg.docMasking ? input.docStarts : undefined;
    const rows = nv + seqLen; // the sequence the blocks see
    const spans = attentionSpans(batch, rows, cfg.causal, docs);
    const lookup = (name: string) => this.param(name);
    // adapters on the projections (LoRA) come in through the lookup, so blocks need not know of them;
    // a checkpointed block makes its own for the replayed generator (block-checkpoint.ts)
    const past = new Map(prefixKeyValues(cfg, lookup).map((kv, l) => [`h.${l}.attn`, kv]));
    const lookupFor = (rng: Rng | undefined, kvs: ReadonlyMap<string, PastKV>): ParamLookup =>
      Object.assign((name: string) => this.param(name), {
        project: loraProjection(cfg, lookup, rng, this.loraMerged),
        past: kvs.size > 0 ? (name: string) => kvs.get(name) : undefined,
      });
    const p = lookupFor(opts.rng, past);
    let tok = tf.gather(this.param('wte.weight'), tf.tensor1d(ids, 'int32')) as tf.Tensor2D;
    const prompts = virtualTokenEmbeddings(cfg, lookup);
    if (prompts)
      tok = tf
        .concat([tf.tile(prompts.expandDims(0), [batch, 1, 1]), tok.reshape([batch, seqLen, d])], 1)
        .reshape([batch * rows, d]);
    // under document masking positions restart at each document (positions.ts), so a packed document
    // is computed as it would be alone; otherwise every row uses positions 0..seqLen-1
    const wpe = cfg.positions === 'learned' ? (this.param('wpe.weight') as tf.Tensor2D) : undefined;
    // with a prefix the row's positions start after it, as Hugging Face GPT-2 counts on from a past
    let positions = docs ? documentPositions(spans) : undefined;
    if (np > 0)
      positions = (positions ?? Int32Array.from({ length: batch * rows }, (_, i) => i % rows)).map((q) => q + np);
    const pos = positionEmbeddings(cfg.positions, wpe, np + rows, d, positions);
    let x = (
      positions ? tf.add(tok, pos) : tf.add(tok.reshape([batch, rows, d]), pos).reshape([batch * rows, d])
    ) as tf.Tensor2D;
    x = dropout(x, cfg.dropout, opts.rng);
    for (let l = 0; l < cfg.nLayer; l++) {
      if (!cfg.activationCheckpointing) {
        x = block(x, l, { cfg, p, spans, rng: opts.rng, js });
        continue;
      }
      const params = [...this.params].filter(([name]) => name.startsWith(`h.${l}.`)).map(([, v]) => v);
      const kv = past.get(`h.${l}.attn`);
      x = checkpointedBlock(x, l, { cfg, spans, rng: opts.rng, js, lookupFor, params, past: kv });
    }
    // only the real tokens' states go on: the loss and the next-token logits are on them alone
    if (nv > 0)
      x = x
        .reshape([batch, rows, d])
        .slice([0, nv, 0], [batch, seqLen, d])
        .reshape([batch * seqLen, d]);
    if (cfg.norm === 'pre')
      x = layerNorm(x, p('ln_f.weight') as tf.Tensor1D, p('ln_f.bias') as tf.Tensor1D, cfg.layerNormEps, js);
    return x;
  }

  /** Longest row hidden() takes: the context less the virtual tokens a prefix or P-tuning puts first. */
  maxSeqLen(): number {
    return this.config.contextLength - virtualTokenCount(this.config) - prefixLength(this.config);
  }

  /** Logits [batch, vocab] for the token after each row's last position (sampling). No KV cache:
   * the rows are run whole. */
  nextTokenLogits(input: GptInput): tf.Tensor2D {
    return tf.tidy(() => {
      const last = Int32Array.from({ length: input.batch }, (_, b) => (b + 1) * input.seqLen - 1);
      const h = tf.gather(this.hidden(input), tf.tensor1d(last, 'int32')) as tf.Tensor2D;
      // W [V, d] x h^T [d, batch] is a plain product with the big matrix on the left; the result is small
      return tf.matMul(this.headMatrix(), h.transpose()).transpose() as tf.Tensor2D;
    });
  }

  /** Copies of every parameter's values, by name, in `specs` order. */
  getParams(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [name, v] of this.params) out.set(name, Float32Array.from(v.dataSync() as Float32Array));
    return out;
  }

  /** Overwrites parameters by name; every given name must exist with the right size. */
  setParams(values: Map<string, Float32Array> | Record<string, Float32Array>): void {
    const entries = values instanceof Map ? [...values] : Object.entries(values);
    for (const [name, v] of entries) {
      const param = this.param(name);
      if (v.length !== param.size)
        throw new Error(
          `Gpt.setParams: ${name} has ${v.length} values, expected ${param.size} (shape [${param.shape}])`,
        );
    }
    for (const [name, v] of entries) {
      const param = this.param(name);
      // a copy: the cpu backend would otherwise keep the caller's array as the variable's storage
      tf.tidy(() => param.assign(tf.tensor(v.slice(), param.shape, 'float32')));
    }
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }
}
