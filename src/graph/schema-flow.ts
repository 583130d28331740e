// The schema a node emits, given its config and the schema it receives.
import { Schema, type Field } from 'apache-arrow';
import type { AnyOperatorDef } from '../core/operator.ts';

export function outputSchema(def: AnyOperatorDef, config: unknown, input: Schema | undefined): Schema | undefined {
  if (def.kind === 'sink') return undefined;
  if (def.kind === 'source') return def.output(config);
  const out = def.output(config);
  if (!def.passthrough || !input) return out;
  const added = new Map(out.fields.map((f) => [f.name, f] as const));
  const removed = new Set(def.removes?.(config) ?? []);
  const fields: Field[] = input.fields
    .filter((f) => !removed.has(f.name) || added.has(f.name))
    .map((f) => added.get(f.name) ?? f);
  for (const f of out.fields) if (!input.fields.some((g) => g.name === f.name)) fields.push(f);
  return new Schema(fields, input.metadata);
}
