// A binary min-heap of numbers in a plain array: BPE encoders key each candidate merge as
// rank * span + position, so the smallest key is the lowest-ranked, leftmost merge.

export function heapPush(h: number[], v: number): void {
  let i = h.length;
  h.push(v);
  while (i > 0) {
    const up = (i - 1) >> 1;
    if (h[up]! <= v) break;
    h[i] = h[up]!;
    i = up;
  }
  h[i] = v;
}

/** Removes and returns the smallest key (the heap must not be empty). */
export function heapPop(h: number[]): number {
  const top = h[0]!;
  const last = h.pop()!;
  const n = h.length;
  if (n === 0) return top;
  let i = 0;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && h[c + 1]! < h[c]!) c++;
    if (h[c]! >= last) break;
    h[i] = h[c]!;
    i = c;
  }
  h[i] = last;
  return top;
}
