// Reading tokenizer.json parts: each component is an object with a `type`; these helpers check the
// fields a loader reads, so an unexpected file fails with where and what, not with undefined later.

export type Json = Record<string, unknown>;

export function obj(v: unknown, where: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${where}: expected an object`);
  return v as Json;
}

export function str(o: Json, key: string, where: string, fallback?: string): string {
  const v = o[key] ?? fallback;
  if (typeof v !== 'string') throw new Error(`${where}.${key}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

export function bool(o: Json, key: string, fallback: boolean): boolean {
  const v = o[key];
  return typeof v === 'boolean' ? v : fallback;
}

export function list(o: Json, key: string, where: string): unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new Error(`${where}.${key}: expected a list`);
  return v;
}

/** A `pattern` field: {"String": "..."} (literal) or {"Regex": "..."}; as a global unicode RegExp. */
export function pattern(o: Json, where: string): RegExp {
  const p = obj(o.pattern, `${where}.pattern`);
  if (typeof p.String === 'string') return new RegExp(p.String.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gu');
  if (typeof p.Regex === 'string') {
    try {
      return new RegExp(caseless(p.Regex), 'gu');
    } catch (e) {
      throw new Error(`${where}.pattern.Regex ${JSON.stringify(p.Regex)} is not a JavaScript RegExp: ${String(e)}`);
    }
  }
  throw new Error(`${where}.pattern: expected {"String": ...} or {"Regex": ...}`);
}

/**
 * Oniguruma's inline case-insensitive groups, "(?i:'s|'t|'re|...)" in Llama 3's and GPT-4o's patterns,
 * as Node 20's RegExp lacks them: each ASCII letter inside becomes a class of both cases. Groups with
 * escapes, classes or nested groups are left as they are (the RegExp then says it cannot compile).
 */
export function caseless(re: string): string {
  return re.replace(
    /\(\?i:([^()[\]\\]*)\)/g,
    (_, body: string) => `(?:${body.replace(/[a-zA-Z]/g, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`)})`,
  );
}

export const unsupported = (where: string, type: unknown, known: string) =>
  new Error(`${where}: ${JSON.stringify(type)} is not supported (supported: ${known})`);
