// A training run as one zod-validated object: model, batch, schedule, evaluation, checkpoints, data
// and where it all goes. The hash of the fields that shape the trajectory goes into every checkpoint,
// so a resume under a different config is refused instead of silently continuing another run.
import { z } from 'zod';
import { GPT_PRESETS, gptConfig, type GptConfig, type GptConfigInput } from '../model/config.ts';
import { checkPairObjective, dpoConfigSchema, rewardConfigSchema } from './pair-config.ts';

export const trainConfigSchema = z.object({
  runDir: z
    .string()
    .min(1)
    .describe('the run directory: checkpoints (step-NNNNNN/), latest.json, metrics.jsonl and metrics.parquet'),
  preset: z
    .enum(['tiny', 'micro'])
    .optional()
    .describe('a named model shape (GPT_PRESETS in src/nn/model/config.ts) the model fields are laid over'),
  model: z
    .record(z.string(), z.unknown())
    .default({})
    .describe('GPT config fields (src/nn/model/config.ts); with preset, only those that differ'),
  encoding: z
    .string()
    .default('gpt2')
    .describe('the tokenizer the shards were made with (js-tiktoken name); generate reads it from checkpoints'),
  data: z
    .object({
      train: z.string().min(1).describe('shard directory of the training rows (flowlm prep --out)'),
      val: z
        .string()
        .min(1)
        .optional()
        .describe('shard directory of validation rows; without it holdoutRows rows of train are held out'),
      holdoutRows: z
        .number()
        .int()
        .min(0)
        .default(256)
        .describe(
          'rows spread evenly over the train shards kept out of training for validation (when val is not given)',
        ),
      seqLen: z
        .number()
        .int()
        .min(1)
        .optional()
        .describe("crop rows to this many input tokens (faster small runs); default: the shards' length"),
      shuffle: z
        .boolean()
        .default(true)
        .describe("a seeded global order of the train rows, reshuffled each epoch; false: the shards' order"),
    })
    .describe('where the training and validation rows come from'),
  batchSize: z.number().int().min(1).default(8).describe('rows per micro-batch'),
  gradAccum: z
    .number()
    .int()
    .min(1)
    .default(1)
    .describe('micro-batches per optimizer step on each rank (a global step takes worldSize * gradAccum of them)'),
  zero: z
    .boolean()
    .default(false)
    .describe(
      'ZeRO-1: shard the AdamW moments across the data-parallel ranks (src/nn/optim/zero-adamw.ts); same result, ' +
        'less memory per rank',
    ),
  steps: z.number().int().min(1).describe('optimizer steps in the whole run'),
  lr: z
    .object({
      max: z.number().positive().default(6e-4).describe('peak learning rate, reached at the end of warm-up'),
      min: z.number().min(0).default(6e-5).describe('learning rate at the end of the cosine decay (the last step)'),
      warmupSteps: z.number().int().min(0).default(10).describe('optimizer steps of linear warm-up to max; 0: none'),
    })
    .default({ max: 6e-4, min: 6e-5, warmupSteps: 10 })
    .describe('learning-rate schedule: linear warm-up to max, then cosine decay to min at the last step'),
  weightDecay: z
    .number()
    .min(0)
    .default(0.1)
    .describe(
      'decoupled AdamW weight decay: each step multiplies the weights by 1 - lr * weightDecay (biases and norms ' +
        'excluded); 0: none',
    ),
  beta1: z
    .number()
    .min(0)
    .lt(1)
    .default(0.9)
    .describe("AdamW's decay rate of the gradient's running mean (first moment)"),
  beta2: z
    .number()
    .min(0)
    .lt(1)
    .default(0.95)
    .describe("AdamW's decay rate of the squared gradient's running mean (second moment)"),
  clipNorm: z.number().min(0).default(1).describe('clip the global gradient norm to this; 0: no clipping'),
  labelSmoothing: z
    .number()
    .min(0)
    .lt(1)
    .default(0)
    .describe(
      "label smoothing of the cross-entropy loss: the share of each target's probability spread over the " +
        'vocabulary; 0: none',
    ),
  objective: z
    .enum(['causal', 'masked', 'reward', 'dpo'])
    .default('causal')
    .describe(
      "what the model learns: 'causal' next-token prediction, or 'masked' LM (BERT: tokens chosen by masking are " +
        'hidden, ' +
        'the loss is on them); masked needs bidirectional attention: it sets model.causal false unless given, and ' +
        'refuses model.causal true. ' +
        "'reward' (a reward model: needs model.rewardHead) and 'dpo' (against a frozen reference) read preference " +
        'pairs, ' +
        'one row of 2 x (L + 1) tokens per pair: the chosen row, then the rejected one (attention_mask 1 on ' +
        'response targets)',
    ),
  reward: rewardConfigSchema,
  dpo: dpoConfigSchema,
  masking: z
    .object({
      maskProb: z.number().gt(0).max(1).default(0.15).describe('share of positions chosen for the loss'),
      maskToken: z
        .number()
        .int()
        .min(0)
        .optional()
        .describe(
          "the id a chosen token becomes; default: the model's last id, vocabSize - 1. Give the model one id more " +
            'than the tokenizer ' +
            "(e.g. model.vocabSize 50258 with gpt2) so no text uses it; at the tokenizer's own size the last id is " +
            "a real token (gpt2's <|endoftext|>)",
        ),
      replaceMask: z
        .number()
        .min(0)
        .max(1)
        .default(0.8)
        .describe('share of the chosen tokens replaced by the mask token'),
      replaceRandom: z
        .number()
        .min(0)
        .max(1)
        .default(0.1)
        .describe(
          'share of the chosen tokens replaced by a random token (the rest stay as they are); replaceMask + ' +
            'replaceRandom <= 1',
        ),
    })
    .refine((m) => m.replaceMask + m.replaceRandom <= 1, {
      path: ['replaceRandom'],
      message: 'masking.replaceMask + masking.replaceRandom must be <= 1',
    })
    .default({ maskProb: 0.15, replaceMask: 0.8, replaceRandom: 0.1 })
    .describe('how the masked objective chooses and hides tokens (src/nn/objective/mask-tokens.ts); unused for causal'),
  init: z
    .object({
      from: z
        .string()
        .min(1)
        .optional()
        .describe(
          'a checkpoint step directory, or a run directory (its latest checkpoint); unset: fresh weights from seed',
        ),
    })
    .default({})
    .describe(
      "start from another run's weights (fine-tuning): only the parameters are taken; the optimizer, the schedule " +
        'and the data ' +
        'start fresh at step 0. A resumed run continues from its own checkpoints instead',
    ),
  evalEvery: z
    .number()
    .int()
    .min(0)
    .default(100)
    .describe('evaluate every N optimizer steps (and after the last); 0: only after the last'),
  evalBatches: z.number().int().min(1).default(8).describe('validation micro-batches per evaluation'),
  checkpointEvery: z
    .number()
    .int()
    .min(0)
    .default(100)
    .describe('checkpoint every N optimizer steps (and after the last); 0: only after the last'),
  keepLast: z
    .number()
    .int()
    .min(1)
    .default(3)
    .describe('checkpoints kept in the run directory; older ones are deleted after each save'),
  checkpointDtype: z
    .enum(['f32', 'bf16', 'f16'])
    .default('f32')
    .describe(
      "how checkpoints store the model's weights: 'f32' exactly, or rounded to 'bf16' / 'f16' (half the bytes " +
        "of params.arrow; every reader gets float32 back). AdamW's moments stay float32. A run resumed from a " +
        'bf16/f16 checkpoint continues from the rounded weights, so it is close to, not identical with, the ' +
        "uninterrupted run: use it for eval and export snapshots, keep 'f32' where resume must be exact",
    ),
  allReduceDtype: z
    .enum(['f32', 'bf16'])
    .default('f32')
    .describe(
      "what the data-parallel gradient all-reduce sends between ranks: 'f32', or 'bf16' (half the bytes; sums " +
        'still float32, every rank still bit-identical; the mean gradient rounded to 8 significant bits). Pays ' +
        'when the all-reduce is bandwidth-bound (processes over TCP); no loss scaling needed (float32 exponent range)',
    ),
  overlapComm: z
    .boolean()
    .default(false)
    .describe(
      'data parallel: all-reduce each 4 MiB gradient bucket as soon as the backward pass has finished its ' +
        'parameters, while the rest of the backward runs (as PyTorch DDP does), instead of after the whole backward. ' +
        'The backward of the last micro-batch then runs piece by piece (head, each block from the last, embeddings; ' +
        "src/nn/train/overlap-step.ts), yielding to the collective between pieces, which recomputes each block's " +
        'forward pass unless model.activationCheckpointing is on (then it costs nothing extra). Gradients are bit for ' +
        'bit the same up to 2 ranks, the same to float rounding from 3 (buckets are cut at parameter boundaries, so ' +
        'the ring sums in another order). Pays when the all-reduce takes a good part of a step (processes over TCP, big models) and ' +
        'there are cores to spare for it; causal objective, pre-LN, no adapters or docMasking only. The ' +
        'train/forward-backward operator then all-reduces (TrainReplica.forwardBackwardReduce) and ' +
        'train/all-reduce passes the step on',
    ),
  offload: z
    .enum(['none', 'disk'])
    .default('none')
    .describe(
      "where AdamW's moments live between steps: 'none' in memory (plain host arrays, whatever the backend), " +
        "'disk' in a file (offloadDir, unlinked at once, so nothing is left behind), read and written back one " +
        'parameter at a time: 8 bytes per parameter leave RAM for two file passes per step. The same update bit ' +
        'for bit; not with zero (ZeRO-1 already divides the moments by the world size)',
    ),
  offloadDir: z
    .string()
    .optional()
    .describe("the directory of offload: 'disk''s moments file (default the system temporary directory)"),
  seed: z.number().int().default(1337).describe('model initialisation, data order and dropout all derive from it'),
});

export type TrainConfigInput = z.input<typeof trainConfigSchema>;
export type TrainConfig = z.output<typeof trainConfigSchema>;

export const trainConfig = (c: TrainConfigInput): TrainConfig => trainConfigSchema.parse(c);

/** The model's GPT config: the preset with `model` laid over it (validated by gptConfig). The masked
 * objective implies bidirectional attention (`causal: false`), so the checkpoint records the model it
 * really trained; a masked config that asks for causal attention is refused (a token could not see
 * the text after it, the context masked LM learns from), as is a mask token outside the vocabulary.
 * Checked here, not in the schema: other schemas pick fields of it, which zod refuses on refined objects. */
export function modelConfigOf(c: TrainConfig): GptConfig {
  const base: Partial<GptConfigInput> = c.preset ? GPT_PRESETS[c.preset] : {};
  if (c.objective === 'masked' && c.model.causal === true) {
    throw new Error(
      "train config: objective 'masked' needs bidirectional attention, but model.causal is true; remove " +
        'model.causal (masked sets it false) or set it false',
    );
  }
  const implied: Partial<GptConfigInput> = c.objective === 'masked' ? { causal: false } : {};
  const m = gptConfig({ ...base, ...implied, ...c.model } as GptConfigInput);
  checkPairObjective(c, m);
  const token = c.masking.maskToken;
  if (c.objective === 'masked' && token !== undefined && token >= m.vocabSize) {
    throw new Error(
      `train config: masking.maskToken ${token} is outside the model's vocabulary [0, ${m.vocabSize}); raise ` +
        `model.vocabSize or pick a smaller id`,
    );
  }
  return m;
}

export { configHash } from './config-hash.ts';

/** Applies `key=value` overrides (dotted paths, values parsed as JSON when they parse) to a config. */
export function applyOverrides(c: TrainConfigInput, sets: readonly string[]): TrainConfigInput {
  const out = structuredClone(c) as Record<string, unknown>;
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new Error(`--set ${s}: expected key=value (e.g. steps=200, model.dModel=64, data.seqLen=64)`);
    const path = s.slice(0, eq).split('.');
    const raw = s.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      /* a bare string */
    }
    let node = out;
    for (const k of path.slice(0, -1)) {
      const next = node[k];
      if (next === undefined) node[k] = {};
      else if (typeof next !== 'object' || next === null || Array.isArray(next))
        throw new Error(`--set ${s}: ${k} is not an object`);
      node = node[k] as Record<string, unknown>;
    }
    node[path.at(-1)!] = value;
  }
  return out as TrainConfigInput;
}
