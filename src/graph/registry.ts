// Operator lookup by id. Factories can be registered explicitly; otherwise an id such as
// "clean/normalize" is looked up as <dir>/clean/normalize.ts in each operator directory (by default
// the package's operators/ folder), so JSON specs need no code and src/ never imports operators/.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AnyFactory } from '../core/operator.ts';
import type { ResourceFactory } from '../core/resource.ts';
import { BUILTIN_RESOURCES } from './resource-kinds.ts';

export const PACKAGE_OPERATORS_DIR = fileURLToPath(new URL('../../operators/', import.meta.url));

const isFactory = (v: unknown): v is AnyFactory =>
  typeof v === 'function' && typeof (v as { def?: { id?: unknown } }).def?.id === 'string';

export class Registry {
  private readonly byId = new Map<string, AnyFactory>();
  private readonly resourceKinds = new Map<string, ResourceFactory>();
  constructor(readonly dirs: string[] = [PACKAGE_OPERATORS_DIR]) {}

  registerResource(...factories: ResourceFactory[]): this {
    for (const f of factories) this.resourceKinds.set(f.resource.kind, f);
    return this;
  }

  /** The resource kind's factory: registered ones, then flowlm's own (src/graph/resource-kinds.ts). */
  async resource(kind: string): Promise<ResourceFactory | undefined> {
    const known = this.resourceKinds.get(kind);
    if (known) return known;
    const load = BUILTIN_RESOURCES[kind];
    if (!load) return undefined;
    const f = await load();
    this.resourceKinds.set(kind, f);
    return f;
  }

  /** Every resource kind a spec can name. */
  resourceKindNames(): string[] {
    return [...new Set([...this.resourceKinds.keys(), ...Object.keys(BUILTIN_RESOURCES)])].sort();
  }

  register(...factories: AnyFactory[]): this {
    for (const f of factories) this.byId.set(f.def.id, f);
    return this;
  }

  /** The factory for `id`, or undefined when no directory has it. */
  async get(id: string): Promise<AnyFactory | undefined> {
    const known = this.byId.get(id);
    if (known) return known;
    if (!/^[a-z0-9-]+(\/[a-z0-9-]+)+$/.test(id)) return undefined;
    for (const dir of this.dirs) {
      const file = join(dir, `${id}.ts`);
      if (!existsSync(file)) continue;
      const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      for (const v of Object.values(mod))
        if (isFactory(v) && v.def.id === id) {
          this.byId.set(id, v);
          return v;
        }
    }
    return undefined;
  }

  /** Every id that resolves to an operator: candidate files are loaded, and shared helper modules
   * (which define no operator of their own path's id) are left out. A module that fails to load is
   * left out too; `get` on its id reports the error. */
  async ids(): Promise<string[]> {
    const out: string[] = [];
    for (const id of await this.candidates()) {
      try {
        if (await this.get(id)) out.push(id);
      } catch {
        /* reported by get() when used */
      }
    }
    return out;
  }

  /** Every path under the operator directories that could be an operator id (no loading). */
  async candidates(): Promise<string[]> {
    const out = new Set(this.byId.keys());
    for (const dir of this.dirs) {
      if (!existsSync(dir)) continue;
      for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
        if (!e.isFile() || !e.name.endsWith('.ts') || e.name === 'index.ts' || e.name.endsWith('.test.ts')) continue;
        out.add(relative(dir, join(e.parentPath, e.name)).replace(/\.ts$/, '').split('\\').join('/'));
      }
    }
    return [...out].sort();
  }
}

export const defaultRegistry = new Registry();
