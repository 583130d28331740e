// Pack stage: token lists into training rows. pack-sequences concatenates documents and cuts rows of
// seqLen+1 tokens; bucket keeps one document per row and batches similar lengths; shuffle is a seeded
// shuffle buffer over rows of any columns.
export { packSequences } from './pack-sequences.ts';
export { bucketByLength } from './bucket.ts';
export { shuffleRows } from './shuffle.ts';
export { packedBatch, packedOutputSchema, type PackedOut, type RaggedPacked } from './packed-batch.ts';
