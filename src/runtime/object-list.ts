// An empty array made to hold objects (strings, nulls, buffers) from its first push. A fresh `[]` starts
// with V8's small-integer element kind, and optimized code that inlined a push into such arrays deopts
// ("not a Smi") the first time an object goes in, then is compiled again. For a reader's generator, whose
// batcher pushes ids, urls and sources into fresh arrays every batch, that was two recompiles of ~100-200
// ms each per worker process (node --trace-deopt, prep --cluster). An array that held an object keeps
// the general kind when emptied.
export function objectList<T>(): T[] {
  const list: unknown[] = [null];
  list.length = 0;
  return list as T[];
}
