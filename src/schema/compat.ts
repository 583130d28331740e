// Edge compatibility: does a producer's schema carry every column a consumer requires, with a type the
// consumer can read? Extra producer columns are fine (operators pass unknown columns through).
import { type Schema, type DataType, type Field, Type } from 'apache-arrow';

export interface SchemaMismatch {
  column: string;
  problem: 'missing' | 'type' | 'nullable';
  expected: string;
  actual?: string;
}

export function formatType(t: DataType): string {
  if (t.typeId === Type.Dictionary) {
    const d = t as DataType & { dictionary: DataType };
    return `Dictionary<${formatType(d.dictionary)}>`;
  }
  const children = (t.children ?? []) as Field[];
  if (t.typeId === Type.FixedSizeList) {
    const f = t as DataType & { listSize: number };
    return `FixedSizeList<${formatType(children[0]!.type)}>[${f.listSize}]`;
  }
  if (t.typeId === Type.List) return `List<${formatType(children[0]!.type)}>`;
  if (t.typeId === Type.Struct)
    return `Struct<{${children.map((c) => `${c.name}: ${formatType(c.type)}`).join(', ')}}>`;
  return String(t);
}

export function formatSchema(s: Schema): string {
  return `{ ${s.fields.map((f) => `${f.name}: ${formatType(f.type)}${f.nullable ? '?' : ''}`).join(', ')} }`;
}

/** Types match on structure; dictionary ids and field names of list items do not matter, struct
 * fields match by name. */
export function typesCompatible(expected: DataType, actual: DataType): boolean {
  if (expected.typeId === Type.Dictionary || actual.typeId === Type.Dictionary) {
    const unwrap = (t: DataType) =>
      t.typeId === Type.Dictionary ? (t as DataType & { dictionary: DataType }).dictionary : t;
    // a plain Utf8 reader can read dictionary-encoded Utf8 (Arrow decodes it), and the reverse is a cast
    return typesCompatible(unwrap(expected), unwrap(actual));
  }
  if (expected.typeId !== actual.typeId) return false;
  const e = expected as DataType & {
    bitWidth?: number;
    isSigned?: boolean;
    precision?: number;
    unit?: number;
    listSize?: number;
  };
  const a = actual as typeof e;
  if (e.bitWidth !== a.bitWidth || e.isSigned !== a.isSigned || e.precision !== a.precision || e.unit !== a.unit)
    return false;
  if (e.listSize !== undefined && a.listSize !== undefined && e.listSize !== a.listSize) return false;
  const ec = (expected.children ?? []) as Field[];
  const ac = (actual.children ?? []) as Field[];
  if (expected.typeId === Type.Struct) {
    // struct fields are matched by name: order does not matter, extra fields are fine
    return ec.every((c) => {
      const a = ac.find((f) => f.name === c.name);
      return a !== undefined && typesCompatible(c.type, a.type);
    });
  }
  if (ec.length !== ac.length) return false;
  return ec.every((c, i) => typesCompatible(c.type, ac[i]!.type));
}

export function schemaMismatches(required: Schema, provided: Schema): SchemaMismatch[] {
  const out: SchemaMismatch[] = [];
  const byName = new Map(provided.fields.map((f) => [f.name, f] as const));
  for (const want of required.fields) {
    const have = byName.get(want.name);
    if (!have) out.push({ column: want.name, problem: 'missing', expected: formatType(want.type) });
    else if (!typesCompatible(want.type, have.type))
      out.push({ column: want.name, problem: 'type', expected: formatType(want.type), actual: formatType(have.type) });
    else if (!want.nullable && have.nullable)
      out.push({
        column: want.name,
        problem: 'nullable',
        expected: formatType(want.type),
        actual: `${formatType(have.type)}?`,
      });
  }
  return out;
}

/** One readable paragraph: each mismatch, then both schemas in full. */
export function explainMismatch(required: Schema, provided: Schema): string | null {
  const ms = schemaMismatches(required, provided);
  if (ms.length === 0) return null;
  const lines = ms.map((m) =>
    m.problem === 'missing'
      ? `column "${m.column}" (${m.expected}) is missing`
      : m.problem === 'type'
        ? `column "${m.column}" has type ${m.actual}, expected ${m.expected}`
        : `column "${m.column}" may be null (${m.actual}), expected non-null ${m.expected}`,
  );
  return `${lines.join('; ')}\n    upstream provides: ${formatSchema(provided)}\n    downstream needs:  ${formatSchema(required)}`;
}
