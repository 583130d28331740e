// P-tuning v1 (PEFT's PromptEncoder): numVirtualTokens trainable embeddings [n, dModel] through a prompt
// encoder, an MLP (Linear-ReLU-Linear-ReLU-Linear) or a bidirectional LSTM with an MLP head
// (Linear-ReLU-Linear on both directions' states), give the virtual token embeddings gpt.ts puts in
// front of each row's token embeddings. As with PEFT's inputs_embeds, the virtual tokens take positions
// 0..n-1 and the real tokens n..n+seqLen-1; the loss is on real tokens only (gpt.ts returns their
// hidden states alone). Parameters use the GPT's [in, out] layout (PEFT's torch weights transposed);
// LSTM gates are torch's order i, f, g, o. P-tuning v2 is a prefix (prefix.ts).
import * as tf from '@tensorflow/tfjs';
import type { GptConfig } from '../model/config.ts';
import { linear } from '../backend/matmul.ts';
import { directions, E, LSTM, MLP, v1 } from './ptuning-specs.ts';

// gpt.ts takes it from here, beside the forward pass
export { virtualTokenCount } from './ptuning-specs.ts';

type Lookup = (name: string) => tf.Tensor;

/** The virtual token embeddings [n, dModel] (the same for every row), or undefined without P-tuning v1. */
export function virtualTokenEmbeddings(cfg: GptConfig, p: Lookup): tf.Tensor2D | undefined {
  const s = v1(cfg);
  if (!s) return undefined;
  const lin = (x: tf.Tensor2D, name: string) =>
    linear(x, p(`${name}.weight`) as tf.Tensor2D, p(`${name}.bias`) as tf.Tensor1D);
  const emb = p(E) as tf.Tensor2D;
  if (s.encoder === 'mlp') return lin(tf.relu(lin(tf.relu(lin(emb, `${MLP}.0`)), `${MLP}.2`)), `${MLP}.4`);
  let x = emb;
  for (let l = 0; l < s.layers; l++) {
    const [fwd, rev] = directions(l).map((dir) => lstmDirection(x, s.hidden, p, dir, dir.endsWith('_reverse')));
    x = tf.concat([fwd!, rev!], 1);
  }
  return lin(tf.relu(lin(x, `${MLP}.0`)), `${MLP}.2`);
}

/** One direction of one LSTM layer over the n virtual tokens x [n, in], from zero states: [n, H]. */
function lstmDirection(x: tf.Tensor2D, H: number, p: Lookup, dir: string, reverse: boolean): tf.Tensor2D {
  const n = x.shape[0];
  const bias = tf.add(p(`${LSTM}.bias_ih_${dir}`), p(`${LSTM}.bias_hh_${dir}`)) as tf.Tensor1D;
  const xw = linear(x, p(`${LSTM}.weight_ih_${dir}`) as tf.Tensor2D, bias); // every step's input term at once
  const whh = p(`${LSTM}.weight_hh_${dir}`) as tf.Tensor2D;
  let h: tf.Tensor2D = tf.zeros([1, H]);
  let c: tf.Tensor2D = tf.zeros([1, H]);
  const out: tf.Tensor2D[] = new Array<tf.Tensor2D>(n);
  for (let k = 0; k < n; k++) {
    const t = reverse ? n - 1 - k : k;
    const gates = tf.add(tf.slice(xw, [t, 0], [1, 4 * H]), tf.matMul(h, whh));
    const [i, f, g, o] = tf.split(gates, 4, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g))) as tf.Tensor2D;
    h = tf.mul(tf.sigmoid(o), tf.tanh(c)) as tf.Tensor2D;
    out[t] = h;
  }
  return tf.concat(out, 0);
}
