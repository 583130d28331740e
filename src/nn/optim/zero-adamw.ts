// ZeRO-1: AdamW whose moments are sharded across the data-parallel ranks. The parameters are one flat
// index space (flat-layout.ts); rank r keeps m and v only for its contiguous shard
// (`shardRange(total, r, worldSize)`), updates that shard of the parameters from the full, already
// averaged gradients with exactly AdamW's per-element arithmetic, and all-gathers the updated values,
// so every rank ends the step with the parameters AdamW would give, bit for bit. Moments memory per
// rank is 1/worldSize of AdamW's. `apply` and `fullState` are collective: every rank calls them in the
// same order.
import { shardRange, type Collective } from '../../runtime/collectives/collective.ts';
import { AdamW, type AdamWOptions, type AdamWState } from './adamw.ts';
import { adamwUpdate } from './adamw-update.ts';
import { FlatLayout } from './flat-layout.ts';
import type { Gpt } from '../model/gpt.ts';
import type { Optimizer } from './optimizer.ts';
import type { ParamSpec } from '../model/params.ts';

export class ZeroAdamW implements Optimizer {
  readonly layout: FlatLayout;
  /** the [start, end) flat range whose moments this rank keeps and whose parameters it updates */
  readonly shard: readonly [number, number];
  readonly collective: Collective;
  /** AdamW with no parameters: holds the resolved hyper-parameters and the decay rule, so defaults
   * and exclusions cannot drift from AdamW's */
  private readonly rule: AdamW;
  private t = 0;
  private m: Float32Array;
  private v: Float32Array;

  constructor(specs: readonly ParamSpec[], o: AdamWOptions, collective: Collective) {
    this.layout = new FlatLayout(specs);
    this.collective = collective;
    this.rule = new AdamW([], o);
    this.shard = shardRange(this.layout.total, collective.rank, collective.worldSize);
    const n = this.shard[1] - this.shard[0];
    this.m = new Float32Array(n);
    this.v = new Float32Array(n);
  }

  get step(): number {
    return this.t;
  }
  get beta1(): number {
    return this.rule.beta1;
  }
  get beta2(): number {
    return this.rule.beta2;
  }
  get eps(): number {
    return this.rule.eps;
  }
  get weightDecay(): number {
    return this.rule.weightDecay;
  }
  decays(spec: ParamSpec): boolean {
    return this.rule.decays(spec);
  }
  /** bytes of optimizer state this rank holds between steps (its shard of m and v) */
  get stateBytes(): number {
    return this.m.byteLength + this.v.byteLength;
  }

  /** One update of every parameter (collective). `grads` must be identical on every rank. */
  async apply(model: Gpt, grads: Map<string, Float32Array>, lr: number): Promise<void> {
    // checked in full before any collective, so a bad call fails on every rank alike instead of
    // leaving the others waiting in the all-gather
    for (const e of this.layout.entries) {
      const g = grads.get(e.name);
      if (!g) throw new Error(`ZeroAdamW: no gradient for ${e.name}; every parameter needs one (zeros if unused)`);
      if (g.length !== e.size)
        throw new Error(`ZeroAdamW: gradient of ${e.name} has ${g.length} values, the parameter ${e.size}`);
    }
    const t = this.t + 1;
    const b1 = this.rule.beta1;
    const b2 = this.rule.beta2;
    const eps = this.rule.eps;
    // the same scalars, computed the same way, as AdamW.apply: the bits must match
    const stepSize = lr / (1 - Math.pow(b1, t));
    const bc2Sqrt = Math.sqrt(1 - Math.pow(b2, t));
    const [start, end] = this.shard;
    const m = this.m;
    const v = this.v;
    // transient: only the moments shard outlives the step
    const flat = new Float32Array(this.layout.total);
    for (const { entry, from, to } of this.layout.segments(start, end)) {
      const g = grads.get(entry.name)!;
      const p = model.param(entry.name).dataSync() as Float32Array; // read only
      const decay = this.rule.decays(entry.spec) ? 1 - lr * this.rule.weightDecay : 1;
      const j0 = entry.offset - start + from; // moments index of parameter element `from`
      const o = entry.offset;
      const sc = { b1, b2, stepSize, bc2Sqrt, decay, eps };
      adamwUpdate(
        p.subarray(from, to),
        flat.subarray(o + from, o + to),
        g.subarray(from, to),
        m.subarray(j0, j0 + to - from),
        v.subarray(j0, j0 + to - from),
        sc,
      );
    }
    await this.collective.allGather(flat);
    model.setParams(this.layout.unflatten(flat));
    this.t = t;
  }

  /** The whole, unsharded moments (collective: every rank calls it; every rank gets the same). */
  async fullState(): Promise<AdamWState> {
    const start = this.shard[0];
    const gather = async (shard: Float32Array) => {
      const flat = new Float32Array(this.layout.total);
      flat.set(shard, start);
      await this.collective.allGather(flat);
      return this.layout.unflatten(flat);
    };
    const m = await gather(this.m);
    const v = await gather(this.v);
    return { step: this.t, m, v };
  }

  /** Takes the whole state (as saved at any world size) and keeps this rank's shard of it. */
  setState(s: AdamWState): void {
    if (!Number.isInteger(s.step) || s.step < 0)
      throw new Error(`ZeroAdamW.setState: step must be a non-negative integer, got ${s.step}`);
    const [start, end] = this.shard;
    for (const e of this.layout.entries) {
      for (const [which, map] of [
        ['m', s.m],
        ['v', s.v],
      ] as const) {
        const a = map.get(e.name);
        if (!a || a.length !== e.size)
          throw new Error(
            `ZeroAdamW.setState: ${which} of ${e.name} is ${a ? `${a.length} values` : 'missing'}, expected ${e.size}`,
          );
      }
    }
    this.m = this.layout.gatherRange(s.m, start, end);
    this.v = this.layout.gatherRange(s.v, start, end);
    this.t = s.step;
  }
}
