// Loading a pipeline spec from a file (a TypeScript/JavaScript module's default export or its named
// export `pipeline`, or JSON) and applying `node.key=value` overrides to node configs. Problems are
// SpecErrors with a path, like validation's, so the CLI reports them the same way.
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SpecError, type SpecIssue } from '../core/errors.ts';

const MODULE_EXTS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The spec a file holds, not yet validated. A module may export the spec or a (async) function returning
 * it; the function gets the spec's parameters (`--set params.mode=shards` gives `{ mode: 'shards' }`),
 * for choices a config value cannot express, such as which nodes the graph has. */
export async function loadSpecFile(file: string, params: Record<string, unknown> = {}): Promise<unknown> {
  const abs = resolve(file);
  if (!existsSync(abs) || !statSync(abs).isFile())
    throw new SpecError([{ path: '(file)', message: `no such spec file: ${abs}` }], file);
  const ext = extname(abs);
  if (ext === '.json') {
    if (Object.keys(params).length > 0)
      throw new SpecError(
        [
          {
            path: '--set params',
            message: `a JSON spec takes no parameters (got ${Object.keys(params).join(', ')}); parameters are for spec modules whose default export is a function`,
          },
        ],
        file,
      );
    const text = await readFile(abs, 'utf8');
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new SpecError(
        [{ path: '(file)', message: `not valid JSON: ${err instanceof Error ? err.message : String(err)}` }],
        file,
      );
    }
  }
  if (!MODULE_EXTS.has(ext))
    throw new SpecError(
      [{ path: '(file)', message: `unsupported spec file type "${ext}"; use .ts, .js or .json` }],
      file,
    );
  let spec: unknown;
  try {
    const mod = (await import(pathToFileURL(abs).href)) as Obj;
    spec = mod.default ?? mod.pipeline;
    if (typeof spec === 'function' && !('def' in spec))
      spec = await (spec as (p: Record<string, unknown>) => unknown)(params);
    else if (Object.keys(params).length > 0)
      throw new Error(
        `its default export is a spec object, which takes no parameters (got ${Object.keys(params).join(', ')}); export a function of them instead`,
      );
  } catch (err) {
    throw new SpecError(
      [{ path: '(module)', message: `cannot load: ${err instanceof Error ? err.message : String(err)}` }],
      file,
    );
  }
  if (spec === undefined)
    throw new SpecError(
      [
        {
          path: '(module)',
          message: 'exports no spec: add `export default pipeline({...})` (or a named export `pipeline`)',
        },
      ],
      file,
    );
  return spec;
}

export interface Override {
  node: string;
  path: string[];
  value: unknown;
  text: string;
  /** `~node.key` (Hydra's syntax): the key is removed, so the config's default applies */
  remove?: true;
}

/** `params.key=value` overrides are the spec module's parameters, not a node's config: split them off. */
export function splitParams(sets: readonly string[]): {
  params: Record<string, unknown>;
  rest: string[];
  issues: SpecIssue[];
} {
  const params: Record<string, unknown> = {};
  const rest: string[] = [];
  const issues: SpecIssue[] = [];
  for (const text of sets) {
    if (!text.startsWith('params.')) {
      rest.push(text);
      continue;
    }
    const o = parseOverride(text);
    if (!('node' in o)) {
      issues.push(o);
      continue;
    }
    const r = setIn(params, o.path, o.value, 'params');
    if (r.ok) Object.assign(params, r.value as Obj);
    else issues.push({ path: `--set ${text}`, message: r.message });
  }
  return { params, rest, issues };
}

/** Parses `node.key=value` or `resource.key=value` (nested `node.a.b=value`); the value is JSON when it
 * parses, else a string. `~node.key` removes the key (e.g. to give a source its file instead of its list). */
export function parseOverride(text: string): Override | SpecIssue {
  if (text.startsWith('~')) {
    const [node, ...path] = text.slice(1).split('.');
    if (!node || path.length === 0 || path.some((p) => p === '' || p.includes('=')))
      return { path: `--set ${text}`, message: 'expected ~node.key to remove a key (e.g. ~prompts.prompts)' };
    return { node, path, value: undefined, text, remove: true };
  }
  const eq = text.indexOf('=');
  const lhs = eq < 0 ? text : text.slice(0, eq);
  const [node, ...path] = lhs.split('.');
  if (eq < 0 || !node || path.length === 0 || path.some((p) => p === '')) {
    return {
      path: `--set ${text}`,
      message: 'expected node.key=value (e.g. read.minChars=100 or write.path=out/x.jsonl)',
    };
  }
  const raw = text.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    /* not JSON: the value is the string itself */
  }
  return { node, path, value, text };
}

/** The node named `id`, and how to put a changed copy of it back into the spec. */
function findNode(spec: Obj, id: string): { node: Obj; replace: (node: Obj) => Obj } | undefined {
  const steps = spec.steps;
  if (Array.isArray(steps)) {
    const i = steps.findIndex((s) => isObj(s) && s.id === id);
    if (i < 0) return undefined;
    return {
      node: steps[i] as Obj,
      replace: (node) => ({ ...spec, steps: steps.map((s, j) => (j === i ? node : s)) }),
    };
  }
  const nodes = spec.nodes;
  if (isObj(nodes) && isObj(nodes[id]))
    return { node: nodes[id], replace: (node) => ({ ...spec, nodes: { ...nodes, [id]: node } }) };
  return undefined;
}

/** The resource named `id` (a model, an optimizer, a trainer: --set trainer.steps=20). */
function findResource(spec: Obj, id: string): { node: Obj; replace: (node: Obj) => Obj } | undefined {
  const resources = spec.resources;
  if (!isObj(resources) || !isObj(resources[id])) return undefined;
  return { node: resources[id], replace: (r) => ({ ...spec, resources: { ...resources, [id]: r } }) };
}

function nodeIds(spec: Obj): string[] {
  if (Array.isArray(spec.steps)) return spec.steps.flatMap((s) => (isObj(s) && typeof s.id === 'string' ? [s.id] : []));
  return isObj(spec.nodes) ? Object.keys(spec.nodes) : [];
}

/** `container[key] = value` on copies: the loaded module's objects are never mutated. */
function setIn(
  container: unknown,
  path: readonly (string | number)[],
  value: unknown,
  label: string,
  remove = false,
): { ok: true; value: unknown } | { ok: false; message: string } {
  if (path.length === 0) return { ok: true, value };
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  if (remove && rest.length === 0 && !Array.isArray(container)) {
    if (!isObj(container) || !(head in container)) return { ok: false, message: `${label} has no key "${head}"` };
    const { [head]: _gone, ...kept } = container;
    return { ok: true, value: kept };
  }
  if (Array.isArray(container)) {
    const i = Number(head);
    if (!Number.isInteger(i) || i < 0 || i > container.length)
      return { ok: false, message: `${label} is a list; "${head}" is not an index from 0 to ${container.length}` };
    const r = setIn(container[i], rest, value, `${label}.${i}`, remove);
    if (!r.ok) return r;
    const copy = [...container];
    copy[i] = r.value;
    return { ok: true, value: copy };
  }
  if (container !== undefined && !isObj(container))
    return {
      ok: false,
      message: `${label} is ${JSON.stringify(container)}, not an object; cannot set "${head}" in it`,
    };
  const obj: Obj = container ?? {};
  const r = setIn(obj[head], rest, value, `${label}.${head}`, remove);
  return r.ok ? { ok: true, value: { ...obj, [head]: r.value } } : r;
}

/** The spec with each override applied to its node's config, and the problems of the ones that could
 * not be applied (unknown node, malformed text, setting a key inside a non-object). */
export function applyOverrides(spec: unknown, sets: readonly string[]): { spec: unknown; issues: SpecIssue[] } {
  const issues: SpecIssue[] = [];
  if (sets.length === 0) return { spec, issues };
  if (!isObj(spec))
    return { spec, issues: [{ path: '(root)', message: 'the spec is not an object; cannot apply --set' }] };
  let out: Obj = spec;
  for (const text of sets) {
    const o = parseOverride(text);
    if (!('node' in o)) {
      issues.push(o);
      continue;
    }
    const found = findNode(out, o.node) ?? findResource(out, o.node);
    if (!found) {
      const resources = isObj(out.resources) ? Object.keys(out.resources) : [];
      issues.push({
        path: `--set ${text}`,
        message: `unknown node "${o.node}" (nodes: ${nodeIds(out).join(', ') || 'none'}${resources.length ? `; resources: ${resources.join(', ')}` : ''})`,
      });
      continue;
    }
    const r = setIn(found.node.config, o.path, o.value, o.node, o.remove === true);
    if (!r.ok) {
      issues.push({ path: `--set ${text}`, message: r.message });
      continue;
    }
    out = found.replace({ ...found.node, config: r.value });
  }
  return { spec: out, issues };
}

/** The spec with the pipeline-wide credit budget fields replaced (each node's own budget still wins). */
export function withBudget(spec: unknown, budget: { maxInFlight?: number; maxInFlightBytes?: number }): unknown {
  const set = Object.entries(budget).filter(([, v]) => v !== undefined);
  if (set.length === 0 || !isObj(spec)) return spec;
  return { ...spec, budget: { ...(isObj(spec.budget) ? spec.budget : {}), ...Object.fromEntries(set) } };
}
