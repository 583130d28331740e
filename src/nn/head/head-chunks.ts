// How a head pass is cut into chunks of rows and blocks of the vocabulary: sizes only, without tfjs,
// so the memory planner (scheduler/memory-plan.ts) counts them without loading a tensor library.

/** Vocabulary block: [rows, 4096] probabilities and a [4096, d] block of W fit in L2/L3 cache. */
export const VOCAB_BLOCK = 4096;

/** How the head pass is cut up; the defaults suit a 50k vocabulary. Results agree to float rounding. */
export interface HeadTuning {
  /** rows of probabilities held at once; default keeps them, [rows, V] float32, under 64 MiB */
  chunkRows?: number;
  /** vocabulary block of the products (default VOCAB_BLOCK) */
  vocabBlock?: number;
  /** 1 keeps the head on this thread even when the head helper thread runs */
  threads?: 1 | 2;
}

/** Rows per chunk: at most `maxRows`, split evenly (a small last chunk runs the products slowly). */
export function chunkSize(n: number, maxRows: number): number {
  return Math.ceil(n / Math.ceil(n / Math.max(1, Math.min(n, maxRows))));
}

export const rowsPerChunkFor = (n: number, v: number, o: HeadTuning): number =>
  chunkSize(n, o.chunkRows ?? Math.floor((64 << 20) / (4 * v)));

/** How many chunks of rows a head pass over n rows and a vocabulary of v makes (1: no helper). */
export const headChunkCount = (n: number, v: number, o: HeadTuning = {}): number =>
  Math.ceil(n / rowsPerChunkFor(n, v, o));
