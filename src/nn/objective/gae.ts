// Generalized advantage estimation (Schulman et al. 2016) and masked whitening, as TRL's PPOTrainer
// (compute_advantages, masked_whiten). Arrays are row-major [batch, T] over the response tokens,
// right-padded; mask is 1 on real response tokens. Rewards and values are zeroed off the mask first,
// so the value after a row's last token is 0 (the episode ends there):
//   delta_t = r_t + gamma V_{t+1} - V_t,   A_t = delta_t + gamma lambda A_{t+1},   returns = A + V
export type Floats = ArrayLike<number>;

function checkShape(where: string, batch: number, t: number, arrays: Record<string, Floats>): void {
  for (const [name, a] of Object.entries(arrays))
    if (a.length !== batch * t)
      throw new Error(`${where}: ${name} has ${a.length} values, expected batch ${batch} x T ${t} (row-major)`);
}

/** sum(x m) / sum(m) */
export function maskedMean(x: Floats, mask: Floats): number {
  if (x.length !== mask.length) throw new Error(`maskedMean: ${x.length} values but ${mask.length} mask entries`);
  let s = 0;
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    s += x[i]! * mask[i]!;
    m += mask[i]!;
  }
  if (m === 0) throw new Error('maskedMean: the mask is all 0; there is no token to average over');
  return s / m;
}

/** The masked variance; unbiased (Bessel's n / (n - 1) with n = sum(mask)) as TRL's default. */
export function maskedVar(x: Floats, mask: Floats, unbiased = true): number {
  const mean = maskedMean(x, mask);
  const centered = Float64Array.from(x, (v) => (v - mean) ** 2);
  const v = maskedMean(centered, mask);
  if (!unbiased) return v;
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i]!;
  if (n <= 1) throw new Error(`maskedVar: the mask sums to ${n}; an unbiased variance needs at least 2 tokens`);
  return (v * n) / (n - 1);
}

/** (x - mean) / sqrt(var + 1e-8) over the mask, at every position; shiftMean false adds the mean back
 * (only the scale changes, as TRL does for rewards). */
export function maskedWhiten(x: Floats, mask: Floats, shiftMean = true): Float64Array {
  const mean = maskedMean(x, mask);
  const scale = 1 / Math.sqrt(maskedVar(x, mask) + 1e-8);
  return Float64Array.from(x, (v) => (v - mean) * scale + (shiftMean ? 0 : mean));
}

export interface GaeOptions {
  gamma: number;
  lambda: number;
  /** whiten the advantages over the mask (default true, as TRL) */
  whiten?: boolean;
}

export interface Gae {
  /** whitened unless whiten is false; [batch, T] */
  advantages: Float64Array;
  /** A + V before whitening: the value targets */
  returns: Float64Array;
}

export function gae(rewards: Floats, values: Floats, mask: Floats, batch: number, t: number, o: GaeOptions): Gae {
  checkShape('gae', batch, t, { rewards, values, mask });
  if (!(o.gamma >= 0 && o.gamma <= 1 && o.lambda >= 0 && o.lambda <= 1))
    throw new Error(`gae: gamma ${o.gamma} and lambda ${o.lambda} must be in [0, 1]`);
  const advantages = new Float64Array(batch * t);
  const returns = new Float64Array(batch * t);
  for (let b = 0; b < batch; b++) {
    let last = 0;
    for (let s = t - 1; s >= 0; s--) {
      const i = b * t + s;
      const v = values[i]! * mask[i]!;
      const next = s < t - 1 ? values[i + 1]! * mask[i + 1]! : 0;
      const delta = rewards[i]! * mask[i]! + o.gamma * next - v;
      last = delta + o.gamma * o.lambda * last;
      advantages[i] = last;
      returns[i] = last + v;
    }
  }
  return { advantages: o.whiten === false ? advantages : maskedWhiten(advantages, mask), returns };
}
