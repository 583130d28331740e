// Between the model code's plain value maps (name -> Float32Array, shapes known from its parameter
// specs) and the shaped NamedTensors a checkpoint stores.
import type { NamedTensors } from './types.ts';

/** Attaches shapes to values (no copy); `shapes` gives each name's shape, e.g. from paramSpecs. */
export function withShapes(
  values: ReadonlyMap<string, Float32Array>,
  shapes: ReadonlyMap<string, readonly number[]> | ((name: string) => readonly number[] | undefined),
): NamedTensors {
  const shapeOf = typeof shapes === 'function' ? shapes : (name: string) => shapes.get(name);
  const out: NamedTensors = new Map();
  for (const [name, v] of values) {
    const shape = shapeOf(name);
    if (!shape) throw new Error(`checkpoint: no shape known for tensor "${name}"`);
    out.set(name, { shape: [...shape], values: v });
  }
  return out;
}

/** The values alone, by name (no copy). */
export const valuesOf = (tensors: NamedTensors): Map<string, Float32Array> =>
  new Map([...tensors].map(([name, t]) => [name, t.values]));
