// The fields of a zod config schema as plain rows (name, type, default, required, description), for
// `flowlm ops` and docs: zod's JSON Schema of the input side, so defaults and descriptions come from
// the schema itself (the one convention: every field says what it is with .describe()).
import { z } from 'zod';

export interface ConfigField {
  /** dotted for nested objects: lr.max */
  name: string;
  type: string;
  required: boolean;
  default?: unknown;
  description?: string;
}

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  const?: unknown;
};

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.anyOf) return [...new Set(s.anyOf.map(typeOf))].join(' | ');
  if (s.type === 'array') return `${s.items ? typeOf(s.items) : 'any'}[]`;
  if (Array.isArray(s.type)) return s.type.join(' | ');
  return s.type ?? 'any';
}

/** Every field of an object schema, nested objects flattened (their own row first). */
export function configFields(schema: z.ZodType): ConfigField[] {
  let root: JsonSchema;
  try {
    root = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  } catch {
    return [];
  }
  const out: ConfigField[] = [];
  const walk = (s: JsonSchema, prefix: string) => {
    const required = new Set(s.required ?? []);
    for (const [key, f] of Object.entries(s.properties ?? {})) {
      const name = prefix ? `${prefix}.${key}` : key;
      out.push({
        name,
        type: typeOf(f),
        required: required.has(key),
        ...(f.default !== undefined ? { default: f.default } : {}),
        ...(f.description ? { description: f.description } : {}),
      });
      if (f.properties) walk(f, name);
    }
  };
  walk(root, '');
  return out;
}
