// The tied head's wte gradient summed per micro-batch, in one device's order (PipelineStepOptions
// tiedSum 'micro-batch'). One device forms each micro-batch's wte gradient as head + embedding and
// sums those over micro-batches; Megatron's embedding group instead sums each copy's total once per
// step, a different float order (equal to rounding, but AdamW carries the difference on). Here the
// first stage sends its embedding gradient's rows for the micro-batch's tokens (the only nonzero
// ones; both ends know which from the data, so only values travel: tokens x d, an activation's size)
// to the last stage, which adds them to the head's gradient for that micro-batch and accumulates
// in order; the total then goes back to the first stage. The cost: the last stage keeps the head's
// wte gradient of each micro-batch whose rows have not arrived yet (about P of them, V x d each).
import { inputsOf, type PackedBatch } from '../objective/loss.ts';
import { TensorChannel, type PipelineComms } from './pipeline-p2p.ts';

/** The sorted distinct token ids of `b`'s inputs: the rows its embedding gradient touches. */
export function touchedRows(b: PackedBatch): Int32Array {
  return Int32Array.from(new Set(inputsOf(b).ids)).sort();
}

export class TiedGradSum {
  private readonly toLast: TensorChannel;
  private readonly fromLast: TensorChannel;
  private readonly rows: Int32Array[];
  private readonly arrivals: Promise<void>[] = [];
  private combined = 0;

  /** `acc`: the last stage's wte gradient accumulator (this class fills it); unused on the first. */
  constructor(
    comms: PipelineComms,
    micro: PackedBatch[],
    private readonly d: number,
    private readonly acc: Float32Array,
  ) {
    if (!comms.embedding) throw new Error('tied gradient sum: needs the embedding group (first and last stage)');
    this.toLast = new TensorChannel(comms.embedding, 0);
    this.fromLast = new TensorChannel(comms.embedding, 1);
    this.rows = micro.map(touchedRows);
  }

  /** First stage: micro-batch m's embedding gradient [V, d]; its touched rows go to the last stage. */
  sendRows(m: number, grad: Float32Array): Promise<void> {
    const rows = this.rows[m]!;
    const d = this.d;
    const out = new Float32Array(rows.length * d);
    rows.forEach((r, i) => out.set(grad.subarray(r * d, (r + 1) * d), i * d));
    return this.toLast.send(out);
  }

  /** Last stage: micro-batch m's head gradient of wte (a copy it may keep); combined and added to
   * the accumulator when the first stage's rows arrive, in micro-batch order. */
  addHead(m: number, head: Float32Array): void {
    const rows = this.rows[m]!;
    const d = this.d;
    const buf = new Float32Array(rows.length * d);
    const arrived = this.toLast.recv(buf).then(() => {
      if (m !== this.combined) throw new Error(`tied gradient sum: micro-batch ${m} arrived out of order`);
      // head + embedding in float32, as the tape adds a tensor's two gradients
      rows.forEach((r, i) => {
        for (let c = 0; c < d; c++) head[r * d + c] = Math.fround(head[r * d + c]! + buf[i * d + c]!);
      });
      if (m === 0) this.acc.set(head);
      else for (let j = 0; j < head.length; j++) this.acc[j]! += head[j]!;
      this.combined++;
    });
    // awaited in settled(); until then a failure must not count as unhandled
    arrived.catch(() => undefined);
    this.arrivals.push(arrived);
  }

  /** Last stage: resolves once every micro-batch is in the accumulator. */
  async settled(): Promise<void> {
    await Promise.all(this.arrivals);
  }

  /** Both ends, after the step's scaling: the first stage's `wte` gradient becomes the last's. */
  share(wte: Float32Array, isLast: boolean): Promise<void> {
    return isLast ? this.fromLast.send(wte) : this.fromLast.recv(wte);
  }
}
