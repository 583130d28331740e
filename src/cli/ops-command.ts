// `flowlm ops`: the operators a spec can name by id, with kind and description. Modules under
// operators/ that define no operator of their own id (shared helpers) are not listed.
import { parseArgs } from 'node:util';
import type { Registry } from '../graph/registry.ts';
import { pad } from './format.ts';
import { UsageError, type CliIO } from './io.ts';

export interface OpRow { id: string; kind: string; description: string }

/** Every operator the registry can resolve; a module that fails to load is listed with its error. */
export async function listOperators(registry: Registry): Promise<OpRow[]> {
  const rows: OpRow[] = [];
  for (const id of await registry.candidates()) {
    try {
      const f = await registry.get(id);
      if (f) rows.push({ id, kind: f.def.kind ?? 'transform', description: f.def.description });
    } catch (err) {
      // one broken operator file must not hide the others
      rows.push({ id, kind: '?', description: `(cannot load: ${err instanceof Error ? err.message.split('\n')[0] : String(err)})` });
    }
  }
  return rows;
}

export async function opsCommand(argv: string[], io: CliIO, registry: Registry): Promise<number> {
  let values;
  try { ({ values } = parseArgs({ args: argv, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true })); } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), 'ops');
  }
  if (values.help) {
    io.out('Usage: flowlm ops [--json]\n\nLists the operators a spec can use by id ("op": "clean/normalize"), with kind and description.\n--json prints one JSON array [{"id","kind","description"}].');
    return 0;
  }
  const rows = await listOperators(registry);
  if (values.json) { io.out(JSON.stringify(rows)); return 0; }
  const w = Math.max(2, ...rows.map((r) => r.id.length));
  io.out(rows.map((r) => `${pad(r.id, w)}  ${pad(r.kind, 9)}  ${r.description}`).join('\n') || '(no operators found)');
  return 0;
}
