// The disk-offloaded AdamW's chunk (disk-offload-adamw.ts), alone so the memory planner counts it
// without loading tfjs.

/** elements of m (and of v) in memory at once: 1 MiB each */
export const CHUNK = 1 << 18;
