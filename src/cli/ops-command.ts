// `flowlm ops`: the operators a spec can name by id, with kind, placement, description and every config
// field (type, default, description), and the resource kinds a spec's `resources` can declare. Modules
// under operators/ that define no operator of their own id (shared helpers) are not listed.
import { parseArgs } from 'node:util';
import { configFields, type ConfigField } from '../core/config-fields.ts';
import { defOf, placementOf } from '../core/operator.ts';
import type { Registry } from '../graph/registry.ts';
import { pad } from './format.ts';
import { UsageError, type CliIO } from './io.ts';

export interface OpRow {
  id: string;
  kind: string;
  placement?: string;
  description: string;
  fields?: ConfigField[];
}

/** Every operator the registry can resolve; a module that fails to load is listed with its error. */
export async function listOperators(registry: Registry): Promise<OpRow[]> {
  const rows: OpRow[] = [];
  for (const id of await registry.candidates()) {
    try {
      const f = await registry.get(id);
      if (f) {
        const def = defOf(f);
        rows.push({
          id,
          kind: def.kind ?? 'transform',
          placement: placementOf(def),
          description: def.description,
          fields: configFields(def.config),
        });
      }
    } catch (err) {
      // one broken operator file must not hide the others
      rows.push({
        id,
        kind: '?',
        description: `(cannot load: ${err instanceof Error ? err.message.split('\n')[0] : String(err)})`,
      });
    }
  }
  return rows;
}

/** Every resource kind a spec can declare, with its config fields. */
export async function listResources(registry: Registry): Promise<OpRow[]> {
  const rows: OpRow[] = [];
  for (const kind of registry.resourceKindNames()) {
    const f = await registry.resource(kind);
    if (f)
      rows.push({
        id: kind,
        kind: 'resource',
        description: f.resource.description,
        fields: configFields(f.resource.config),
      });
  }
  return rows;
}

const fieldLine = (f: ConfigField): string =>
  `      ${f.name}${f.required ? '' : '?'}: ${f.type}${f.default !== undefined ? ` = ${JSON.stringify(f.default)}` : ''}${f.description ? ` — ${f.description}` : ''}`;

export async function opsCommand(argv: string[], io: CliIO, registry: Registry): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), 'ops');
  }
  if (values.help) {
    io.out(
      'Usage: flowlm ops [--json]\n\nLists the operators a spec can use by id ("op": "clean/normalize") with kind, ' +
        'placement and description,\n' +
        'each config field (name, type, default, description; "?" marks optional ones), and the resource kinds a ' +
        "spec's\n" +
        '"resources" can declare ("kind": "nn/gpt"). --json prints one JSON array ' +
        '[{"id","kind","placement","description","fields"}].',
    );
    return 0;
  }
  const rows = [...(await listOperators(registry)), ...(await listResources(registry))];
  if (values.json) {
    io.out(JSON.stringify(rows));
    return 0;
  }
  const w = Math.max(2, ...rows.map((r) => r.id.length));
  io.out(
    rows
      .map((r) =>
        [
          `${pad(r.id, w)}  ${pad(r.kind, 9)}  ${pad(r.placement ?? '', 7)}  ${r.description}`,
          ...(r.fields ?? []).map(fieldLine),
        ].join('\n'),
      )
      .join('\n') || '(no operators found)',
  );
  return 0;
}
