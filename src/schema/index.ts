export * from './columns.ts';
export * from './compat.ts';
export * from './build.ts';
export * from './row-batcher.ts';
