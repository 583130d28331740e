// The backward pass of one micro-batch cut into pieces (issue 15, item 2): the head (ln_f and the
// fused head loss), each block from the last to the first, then the embeddings, each piece's
// parameter gradients written into the flat layout as soon as the piece is done, with an awaited
// callback between pieces. JS runs on one thread and tfjs's backward is one synchronous call, so
// this is where gradient all-reduces (overlap-reduce.ts) get the turns they need to make progress
// while the rest of the backward runs.
// The forward runs without a tape, keeping only each block's input; each piece's backward runs the
// piece again under a tape of its own (segment.ts), drawing its dropout masks from a copy of the
// generator restored to its state before the piece (as block-checkpoint.ts does), so every op is
// the one of Gpt.hidden + autoregressiveLoss on the same values and the gradients are bit for bit
// those of gradsInto. The tied embedding gets its two parts added as tfjs adds them (head + lookup).
import * as tf from '@tensorflow/tfjs';
import { Rng, type RngState } from '../../runtime/rng.ts';
import { headLoss, type HeadTuning } from '../head/head-loss.ts';
import { attentionSpans } from '../model/attention-mask.ts';
import { block } from '../model/block.ts';
import type { GptConfig } from '../model/config.ts';
import type { Gpt } from '../model/gpt.ts';
import { layerNorm } from '../model/layer-norm.ts';
import { positionEmbeddings } from '../model/positions.ts';
import { dropout } from '../model/regularize.ts';
import { inputsOf, nextTokenTargets, type PackedBatch } from '../objective/loss.ts';
import type { FlatLayout } from '../optim/flat-layout.ts';
import { segmentBackward, segmentForward } from '../parallel/segment.ts';

export interface PiecewiseOptions {
  labelSmoothing?: number;
  /** dropout masks are drawn from it (forward) and replayed from copies (backward); none: no dropout */
  rng?: Rng;
  head?: HeadTuning;
  /** After each piece: the parameters whose gradient in `flat` is now complete ('start' for those off
   * the loss's path, before any piece). Awaited: the turn other work (all-reduces, peers) gets. */
  onFinal?: (names: readonly string[], piece: string) => void | Promise<void>;
}

/** Why the piecewise backward cannot run `cfg`, or undefined when it can. */
export function piecewiseRefusal(cfg: GptConfig): string | undefined {
  if (cfg.norm !== 'pre') return `model.norm '${cfg.norm}' (only pre-LN is supported)`;
  if (cfg.docMasking) return 'model.docMasking (not supported)';
  for (const k of ['lora', 'prefix', 'ptuning'] as const)
    if (cfg[k] !== undefined) return `model.${k} adapters (not supported)`;
  return undefined;
}

/** The index of the piece whose end makes `name`'s gradient final, in the order the pieces run: 0 off
 * the loss's path, 1 the head (ln_f, an untied head), then the blocks from the last, then the
 * embeddings (the tied head's matrix too: its lookup part comes last). */
export function pieceIndex(cfg: GptConfig, name: string): number {
  if (name === 'wte.weight' || name === 'wpe.weight') return cfg.nLayer + 2;
  if (name.startsWith('ln_f.') || name === 'lm_head.weight') return 1;
  const m = /^h\.(\d+)\./.exec(name);
  return m ? 2 + (cfg.nLayer - 1 - Number(m[1])) : 0;
}

const blockParams = (model: Gpt, l: number): tf.Variable[] =>
  [...model.params].filter(([name]) => name.startsWith(`h.${l}.`)).map(([, v]) => v);

/** Next-token loss of `batch` and its gradient written (or, with `accumulate`, added) into `flat`
 * laid out as `layout`, piece by piece from the head to the embeddings. Leaves no tensors behind. */
export async function piecewiseGradsInto(
  model: Gpt,
  batch: PackedBatch,
  o: PiecewiseOptions,
  layout: FlatLayout,
  flat: Float32Array,
  accumulate: boolean,
): Promise<number> {
  const cfg = model.config;
  const why = piecewiseRefusal(cfg);
  if (why) throw new Error(`overlapComm: the piecewise backward does not support ${why}; set overlapComm false`);
  if (flat.length !== layout.total)
    throw new Error(`piecewiseGradsInto: flat gradient has ${flat.length} elements, the layout ${layout.total}`);
  const input = inputsOf(batch);
  const { ids, seqLen } = input;
  const rows = input.batch;
  const d = cfg.dModel;
  if (seqLen > cfg.contextLength)
    throw new Error(`piecewiseGradsInto: sequence length ${seqLen} exceeds the context length ${cfg.contextLength}`);
  for (const t of ids)
    if (!(t >= 0 && t < cfg.vocabSize))
      throw new Error(`piecewiseGradsInto: token id ${t} is outside the vocabulary [0, ${cfg.vocabSize})`);
  const spans = attentionSpans(rows, seqLen, cfg.causal, undefined);
  const js = model.kernels === 'js';
  const p = (name: string) => model.param(name);
  const trained = new Set(layout.entries.map((e) => e.name));
  const names = new Map([...model.params].map(([n, v]) => [v, n]));
  const write = (v: tf.Variable, g: tf.Tensor): string => {
    const name = names.get(v)!;
    if (!trained.has(name)) return name; // frozen: not in the layout
    const e = layout.entry(name);
    const dst = flat.subarray(e.offset, e.offset + e.size);
    const src = g.dataSync() as Float32Array;
    if (accumulate) for (let j = 0; j < src.length; j++) dst[j]! += src[j]!;
    else dst.set(src);
    return name;
  };
  const done = async (vars: readonly string[], piece: string) => {
    await o.onFinal?.(
      vars.filter((n) => trained.has(n)),
      piece,
    );
  };

  // every trained parameter a piece reaches; the rest (a reward head, say) has a zero gradient
  const wte = p('wte.weight');
  const wpe = cfg.positions === 'learned' ? p('wpe.weight') : undefined;
  const embParams = wpe ? [wte, wpe] : [wte];
  const headW = model.headMatrix();
  const lnf = [p('ln_f.weight'), p('ln_f.bias')];
  const blocks = Array.from({ length: cfg.nLayer }, (_, l) => blockParams(model, l));
  const reached = new Set([...embParams, headW, ...lnf, ...blocks.flat()].map((v) => names.get(v)!));
  const off = layout.entries.filter((e) => !reached.has(e.name));
  for (const e of off) if (!accumulate) flat.fill(0, e.offset, e.offset + e.size);
  await done(
    off.map((e) => e.name),
    'start',
  );

  const embed = (rng: Rng | undefined) => (): tf.Tensor => {
    const tok = tf.gather(wte, tf.tensor1d(ids, 'int32')) as tf.Tensor2D;
    const pos = positionEmbeddings(cfg.positions, wpe as tf.Tensor2D | undefined, seqLen, d);
    const x = tf.add(tok.reshape([rows, seqLen, d]), pos).reshape([rows * seqLen, d]) as tf.Tensor2D;
    return dropout(x, cfg.dropout, rng);
  };
  const blockFn = (l: number, rng: Rng | undefined) => (inputs: tf.Tensor[]) =>
    block(inputs[0] as tf.Tensor2D, l, { cfg, p, spans, rng, js });
  const replay = (s: RngState | undefined) => (s ? Rng.restore(s) : undefined);

  // forward, no tape: each block's input and the generator's state before each piece
  const xs: tf.Tensor[] = [];
  const starts: Array<RngState | undefined> = [];
  let dy: tf.Tensor | undefined;
  let headDw: tf.Tensor | undefined;
  try {
    starts.push(o.rng?.save());
    xs.push(segmentForward(embed(o.rng), []));
    for (let l = 0; l < cfg.nLayer; l++) {
      starts.push(o.rng?.save());
      xs.push(segmentForward(blockFn(l, o.rng), [xs[l]!]));
    }

    // the head: forward and backward in one go under its tape (nothing to recompute)
    let loss = Number.NaN;
    const headFn = (inputs: tf.Tensor[]) => {
      const h = layerNorm(inputs[0] as tf.Tensor2D, lnf[0] as tf.Tensor1D, lnf[1] as tf.Tensor1D, cfg.layerNormEps, js);
      const l = headLoss(h, headW as tf.Tensor2D, {
        ...nextTokenTargets(batch),
        labelSmoothing: o.labelSmoothing,
        ...o.head,
      });
      loss = l.dataSync()[0]!;
      return l;
    };
    const one = tf.scalar(1); // what variableGrads seeds the backward with
    const hg = segmentBackward(headFn, [xs[cfg.nLayer]!], [...lnf, headW], one);
    one.dispose();
    tf.dispose(xs.pop());
    dy = hg.inputs[0];
    const headNames = [write(lnf[0]!, hg.params[0]!), write(lnf[1]!, hg.params[1]!)];
    if (headW === wte) headDw = hg.params[2];
    else {
      headNames.push(write(headW, hg.params[2]!));
      hg.params[2]!.dispose();
    }
    tf.dispose(hg.params.slice(0, 2));
    await done(headNames, 'head');

    for (let l = cfg.nLayer - 1; l >= 0; l--) {
      const params = blocks[l]!;
      const g = segmentBackward(blockFn(l, replay(starts[l + 1])), [xs[l]!], params, dy!);
      tf.dispose([dy!, xs.pop()!]);
      dy = g.inputs[0];
      const blockNames = params.map((v, i) => write(v, g.params[i]!));
      tf.dispose(g.params);
      await done(blockNames, `h.${l}`);
    }

    const eg = segmentBackward(embed(replay(starts[0])), [], embParams, dy!);
    tf.dispose([dy!, ...eg.inputs]);
    dy = undefined;
    // tfjs accumulates a tensor's gradients in reverse tape order: the head's part, then the lookup's
    const dWte = headDw ? tf.add(headDw, eg.params[0]!) : eg.params[0]!;
    const embNames = [write(wte, dWte)];
    if (headDw) dWte.dispose();
    if (wpe) embNames.push(write(wpe, eg.params[1]!));
    tf.dispose(eg.params);
    await done(embNames, 'embeddings');
    return loss;
  } finally {
    tf.dispose([...xs, ...(dy ? [dy] : []), ...(headDw ? [headDw] : [])]);
  }
}
