// Public barrel: everything a pipeline author or an RxJS user imports from "flowlm".
export * from './schema/index.ts';
export * from './core/index.ts';
export * from './graph/spec.ts';
export { Registry, defaultRegistry } from './graph/registry.ts';
export { validatePipeline, type ResolvedPipeline, type ResolvedNode } from './graph/validate.ts';
export { compilePipeline } from './graph/compile.ts';
export { runPipeline, type RunResult, type RunOptions, type Progress } from './runtime/run.ts';
export { expandGlobs, stableId, AtomicFile } from './runtime/files.ts';
export { WorkerPool, WorkerTaskError, type WorkerPoolOptions, type KernelSpec } from './runtime/worker-pool.ts';
