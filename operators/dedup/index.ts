// Dedup stage: exact (normalised text, 64-bit hash) and near (MinHash-LSH; signatures may run on the
// worker pool, the filter runs on one thread).
export { exactDedup, normalizeForExact } from './exact.ts';
export { minhashSignatures, MinHasher } from './minhash/signature.ts';
export { minhashDedup } from './minhash/filter.ts';
export { chooseBands, candidateProbability } from './minhash/bands.ts';
