// Fixed sinusoidal position table (Vaswani et al.): PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos.
export function sinusoidalTable(seqLen: number, d: number): Float32Array {
  const pe = new Float32Array(seqLen * d);
  for (let p = 0; p < seqLen; p++) {
    for (let i = 0; i < d; i += 2) {
      const angle = p / Math.pow(10000, i / d);
      pe[p * d + i] = Math.sin(angle);
      pe[p * d + i + 1] = Math.cos(angle);
    }
  }
  return pe;
}
