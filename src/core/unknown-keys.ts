// Keys no schema knows. A zod object strips keys it does not know, so a typo in a config
// (`--set crawl.maxpages=5` for `maxPages`) was silently dropped and the run went on with the
// default. This walks a zod 4 schema alongside the value, at every depth, and reports each key that
// no schema there knows, naming the nearest known key when one is close. Keys a schema leaves open
// (z.record, a catchall, z.unknown, z.custom) are accepted with any name.
import { z } from 'zod';

export interface UnknownKeyIssue {
  path: (string | number)[];
  message: string;
}

type Schema = z.core.$ZodType;
type Def = z.core.$ZodTypes['_zod']['def'];

const defOf = (s: Schema): Def => (s as z.core.$ZodTypes)._zod.def;

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};

/** The schemas that describe `value` once wrappers are peeled off. For a discriminated union only the
 * members its discriminator selects (zod parses with that member alone, so other members' keys would
 * be dropped); for a plain union every member, so a key known to any member is accepted. */
function leaves(s: Schema, value: unknown, out: Schema[], seen: Set<Schema>): Schema[] {
  if (seen.has(s)) return out; // a lazy schema that refers to itself at the same value
  seen.add(s);
  const def = defOf(s);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'catch':
    case 'readonly':
    case 'nonoptional':
    case 'success':
      return leaves(def.innerType, value, out, seen);
    case 'lazy':
      return leaves(def.getter(), value, out, seen);
    // z.preprocess(fn, schema) is a pipe from a transform: the schema that matters is its output;
    // otherwise (schema.transform(fn), schema.pipe(other)) the input side sees the value as given
    case 'pipe':
      return leaves(defOf(def.in).type === 'transform' ? def.out : def.in, value, out, seen);
    case 'intersection':
      leaves(def.left, value, out, seen);
      return leaves(def.right, value, out, seen);
    case 'union': {
      for (const o of selected(def, value)) leaves(o, value, out, seen);
      return out;
    }
    default:
      out.push(s);
      return out;
  }
}

function selected(def: Extract<Def, { type: 'union' }>, value: unknown): readonly Schema[] {
  const disc = 'discriminator' in def && typeof def.discriminator === 'string' ? def.discriminator : undefined;
  if (disc === undefined || !isPlainObject(value)) return def.options;
  const match = def.options.filter((o) => o._zod.propValues?.[disc]?.has(value[disc] as never));
  return match.length > 0 ? match : def.options;
}

/** Every key of `value` (an object, at any depth) that no schema in `schema` knows. */
export function unknownKeyIssues(schema: z.ZodType, value: unknown): UnknownKeyIssue[] {
  const out: UnknownKeyIssue[] = [];
  walk([schema], value, [], out, new Set());
  return out;
}

function walk(
  schemas: readonly Schema[],
  value: unknown,
  path: (string | number)[],
  out: UnknownKeyIssue[],
  ancestors: Set<object>,
): void {
  if (typeof value !== 'object' || value === null || ancestors.has(value)) return;
  const ls: Schema[] = [];
  for (const s of schemas) leaves(s, value, ls, new Set());
  ancestors.add(value);
  if (Array.isArray(value)) walkArray(ls, value, path, out, ancestors);
  else if (isPlainObject(value)) walkObject(ls, value, path, out, ancestors);
  ancestors.delete(value);
}

function walkArray(
  ls: Schema[],
  value: unknown[],
  path: (string | number)[],
  out: UnknownKeyIssue[],
  ancestors: Set<object>,
): void {
  value.forEach((item, i) => {
    const subs: Schema[] = [];
    for (const l of ls) {
      const def = defOf(l);
      if (def.type === 'array') subs.push(def.element);
      else if (def.type === 'tuple') {
        const t = def.items[i] ?? def.rest;
        if (t) subs.push(t);
      }
    }
    if (subs.length > 0) walk(subs, item, [...path, i], out, ancestors);
  });
}

function walkObject(
  ls: Schema[],
  value: Record<string, unknown>,
  path: (string | number)[],
  out: UnknownKeyIssue[],
  ancestors: Set<object>,
): void {
  const known = new Map<string, Schema[]>();
  const open: Schema[] = []; // schemas every key's value must match (record values, catchalls)
  let anyKey = false; // some schema accepts keys of any name
  let objectLike = false;
  for (const l of ls) {
    const def = defOf(l);
    if (def.type === 'object') {
      objectLike = true;
      for (const [k, v] of Object.entries(def.shape)) known.set(k, [...(known.get(k) ?? []), v]);
      if (def.catchall && defOf(def.catchall).type !== 'never') {
        anyKey = true;
        open.push(def.catchall);
      }
    } else if (def.type === 'record') {
      objectLike = anyKey = true;
      open.push(def.valueType);
    } else if (def.type === 'unknown' || def.type === 'any' || def.type === 'custom') {
      objectLike = anyKey = true;
    }
  }
  // no schema here takes an object: the type mismatch is zod's to report
  if (!objectLike) return;
  for (const [k, v] of Object.entries(value)) {
    const subs = [...(known.get(k) ?? []), ...open];
    if (!known.has(k) && !anyKey) out.push({ path: [...path, k], message: unknownKeyMessage(k, [...known.keys()]) });
    else if (subs.length > 0) walk(subs, v, [...path, k], out, ancestors);
  }
}

/** "unknown key; did you mean maxPages?" when a known key is close, else the known keys. */
export function unknownKeyMessage(key: string, known: readonly string[]): string {
  const near = nearestKey(key, known);
  if (near !== undefined) return `unknown key; did you mean ${near}?`;
  return known.length === 0
    ? 'unknown key; no keys are allowed here'
    : `unknown key; known keys: ${[...known].sort().join(', ')}`;
}

/** The known key nearest to `key` by edit distance (case ignored, transpositions one edit), when it is
 * within about a third of the key's length (keys of one or two letters: only a case difference);
 * ties go to the key that also matches case best. */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  const limit = key.length <= 2 ? 0 : Math.max(1, Math.floor(key.length / 3));
  let best: { k: string; d: number; exact: number } | undefined;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d > limit) continue;
    const exact = editDistance(key, k);
    if (!best || d < best.d || (d === best.d && exact < best.exact)) best = { k, d, exact };
  }
  return best?.k;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

/** `schema.safeParse(value)`, failing also on keys no schema knows (their issues have the key's path
 * and code "custom"). zod's own "unrecognized_keys" issue for a strict object is replaced by ours,
 * which names the nearest known key. */
export function safeParseKnown<S extends z.ZodType>(schema: S, value: unknown): z.ZodSafeParseResult<z.output<S>> {
  const r = schema.safeParse(value);
  const unknown = unknownKeyIssues(schema, value);
  if (unknown.length === 0) return r;
  const ours = new Set(unknown.map((u) => u.path.join('\u0000')));
  const theirs = r.success
    ? []
    : r.error.issues.filter(
        (i) =>
          !(i.code === 'unrecognized_keys' && i.keys.every((k) => ours.has([...i.path, k].map(String).join('\u0000')))),
      );
  const issues: z.core.$ZodIssue[] = [
    ...theirs,
    ...unknown.map((u) => ({ code: 'custom' as const, path: u.path, message: u.message })),
  ];
  return { success: false, error: new z.ZodRealError(issues) } as z.ZodSafeParseResult<z.output<S>>;
}
