// Tokenize stage: BPE tokenization (gpt2, r50k, p50k, cl100k, o200k) into a tokens List<Int32>
// column, on the worker pool when asked, and token counts. Engines: flowlm (default), js-tiktoken
// (reference), tiktoken-wasm; all give the same ids.
export { tokenize } from './tokenize.ts';
export { countTokens, tokenCounts } from './count-tokens.ts';
export { createEngine, ENGINES, type EngineName, type TokenEngine } from './engine/engines.ts';
export { ENCODINGS, specialTokenId, type EncodingName } from './engine/encodings.ts';
export { IdBuffer } from './engine/id-buffer.ts';
export { tokensVector } from './tokens-column.ts';
