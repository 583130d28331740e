// `flowlm report RUN... [--out DIR] [--store PATH]`: runs of the store as a self-contained HTML report
// with an SVG and a PNG of each chart (src/ui/report.ts).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RunStore } from '../runs/store.ts';
import { storePath } from '../runs/store-path.ts';
import { writeReport } from '../ui/report.ts';
import { UsageError, type CliIO } from './io.ts';

export const REPORT_HELP = `Usage: flowlm report RUN... [--out DIR] [--store PATH] [--smoothing W] [--json]

Writes DIR/report.html: the runs' summary (name, id, status, start, duration, params, final losses) and a
chart per metric key with the runs overlaid, as in flowlm ui. One file with everything inlined (vega, the
data): it opens from file:// with no network, and keeps a smoothing slider. Next to it, each chart as
<key>.svg and <key>.png (train/loss -> train-loss.svg). The report is recorded as an artifact (kind
"report") of every run in it. Prints the report's path.
  RUN            a run id, or a unique prefix of one (flowlm ui lists the runs)
  --out DIR      where to write (default: reports/<first run id>/)
  --store PATH   the run store (default: FLOWLM_STORE, else .flowlm/runs.sqlite)
  --smoothing W  the charts' smoothing weight, 0 (none) to 0.99 (default 0.6, as TensorBoard)
  --json         print {html, charts: [{key, svg, png}]} as one JSON line instead`;

export async function reportCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      out: { type: 'string', short: 'o' },
      store: { type: 'string' },
      smoothing: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(REPORT_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('give the id of at least one run', 'report');
  const smoothing = values.smoothing === undefined ? undefined : Number(values.smoothing);
  if (smoothing !== undefined && !(smoothing >= 0 && smoothing <= 0.99))
    throw new UsageError(`--smoothing ${values.smoothing} is not a weight from 0 to 0.99`, 'report');
  const store = RunStore.open(storePath(values.store));
  try {
    const first = positionals[0]!;
    const runs = positionals.map((id) => {
      const run = store.run(id);
      if (!run) throw new UsageError(`no run "${id}" in the store ${store.path} (flowlm ui lists the runs)`, 'report');
      return run.id;
    });
    const outDir = values.out ?? join('reports', store.run(first)!.id);
    const report = await writeReport({ store, runs, outDir, ...(smoothing === undefined ? {} : { smoothing }) });
    if (values.json)
      io.out(
        JSON.stringify({ html: report.html, charts: report.charts.map(({ key, svg, png }) => ({ key, svg, png })) }),
      );
    else io.out(report.html);
    return 0;
  } finally {
    store.close();
  }
}
