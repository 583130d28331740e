// A checkpoint's parameters checked against a model's before they are loaded into it: every parameter
// of the model present with the model's shape, and nothing the model has no place for. Gpt.create
// would fill a missing parameter from the seed and setParams only compares sizes, so without this a
// changed shape or activation could start from half-random or reshaped weights without a word.
import type { ParamSpec } from '../model/params.ts';
import type { NamedTensors } from './types.ts';

const shapeText = (shape: readonly number[]) => `[${shape.join(',')}]`;

/** The values of `tensors` by name when they fit `specs` exactly; else throws naming the first
 * parameter that does not, prefixed with `where` (e.g. "init.from runs/a/step-000100"). */
export function matchParams(
  specs: readonly ParamSpec[],
  tensors: NamedTensors,
  where: string,
): Map<string, Float32Array> {
  const fix =
    "use a checkpoint of a model of this shape, or set the model config to the checkpoint's (its state.json records " +
    'modelConfig)';
  const values = new Map<string, Float32Array>();
  for (const s of specs) {
    const t = tensors.get(s.name);
    if (!t) throw new Error(`${where}: parameter ${s.name} of this model is missing from the checkpoint; ${fix}`);
    const same = t.shape.length === s.shape.length && t.shape.every((d, i) => d === s.shape[i]);
    if (!same)
      throw new Error(
        `${where}: parameter ${s.name} has shape ${shapeText(t.shape)} in the checkpoint, ${shapeText(s.shape)} in ` +
          `this model; ${fix}`,
      );
    values.set(s.name, t.values);
  }
  const known = new Set(specs.map((s) => s.name));
  for (const name of tensors.keys()) {
    if (!known.has(name))
      throw new Error(`${where}: the checkpoint has parameter ${name}, which this model does not; ${fix}`);
  }
  return values;
}
