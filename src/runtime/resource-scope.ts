// The resources of one process (or one device replica) in a run: each built once, on first use, after
// the ones it refers to, and disposed of in reverse order when the run ends, however it ends.
import type { ResourceScope, RunHooks } from '../core/resource.ts';
import type { ResolvedResource } from '../graph/resolve-resources.ts';

export interface ScopeOptions {
  rank?: number;
  worldSize?: number;
  group?: unknown;
  signal?: AbortSignal;
  resume?: boolean;
  hooks?: RunHooks;
  log?: (message: string) => void;
}

export interface OpenScope {
  scope: ResourceScope;
  /** the instances built so far, by name */
  built(): Map<string, unknown>;
  dispose(): Promise<void>;
}

export function openScope(resources: Map<string, ResolvedResource>, o: ScopeOptions = {}): OpenScope {
  const instances = new Map<string, Promise<unknown>>();
  const order: string[] = [];
  const values = new Map<string, unknown>();
  const scope: ResourceScope = {
    rank: o.rank ?? 0,
    worldSize: o.worldSize ?? 1,
    group: o.group,
    signal: o.signal ?? new AbortController().signal,
    resume: o.resume ?? false,
    hooks: o.hooks ?? {},
    log: o.log ?? (() => undefined),
    get<T>(name: string, kind?: string): Promise<T> {
      const r = resources.get(name);
      if (!r)
        return Promise.reject(
          new Error(`no resource named "${name}" (declared: ${[...resources.keys()].join(', ') || 'none'})`),
        );
      if (kind && r.kind !== kind) return Promise.reject(new Error(`resource "${name}" is a ${r.kind}, not a ${kind}`));
      let p = instances.get(name);
      if (!p) {
        p = (async () => {
          const v = await r.def.open(r.config, scope);
          order.push(name);
          values.set(name, v);
          return v;
        })();
        instances.set(name, p);
      }
      return p as Promise<T>;
    },
  };
  return {
    scope,
    built: () => new Map(values),
    async dispose() {
      await Promise.allSettled(instances.values());
      for (const name of [...order].reverse()) {
        const r = resources.get(name)!;
        try {
          await r.def.dispose?.(values.get(name));
        } catch (err) {
          scope.log(`disposing resource ${name}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    },
  };
}
