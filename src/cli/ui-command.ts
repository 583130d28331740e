// `flowlm ui [--store PATH] [--port N] [--host H]`: the runs dashboard (like `mlflow ui` or TensorBoard)
// served until SIGINT/SIGTERM; it reads the run store only (src/ui/server.ts).
import { parseArgs } from 'node:util';
import { storePath } from '../runs/store-path.ts';
import { ListenError, startUiServer, type UiServer } from '../ui/server.ts';
import { UsageError, type CliIO } from './io.ts';

export const UI_HELP = `Usage: flowlm ui [--store PATH] [--port N] [--host ADDR]

Serves a dashboard of the run store on http://ADDR:N/ until Ctrl-C (SIGINT) or SIGTERM: the runs (name,
status, start, duration, params, final losses) with boxes to pick the runs to compare; a chart per metric
(train/loss, val/loss, train/lr, ... whatever the picked runs logged) with the runs overlaid, x = step; a
smoothing slider (TensorBoard's debiased moving average; the raw line stays faint behind); a running run's
new points appear every second. Everything is served locally (vega from node_modules): no network.
  --store PATH   the run store (default: FLOWLM_STORE, else .flowlm/runs.sqlite)
  --port N       the port (default 5757; 0 picks a free one, and the printed URL says which)
  --host ADDR    the address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for every one)
The URL is printed on stdout once the server listens. JSON API: /api/runs, /api/runs/ID,
/api/metrics?runs=ID,ID&after=STEP. A report to keep or share: flowlm report.`;

export const DEFAULT_UI_PORT = 5757;

export async function uiCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      store: { type: 'string' },
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(UI_HELP);
    return 0;
  }
  const port = values.port === undefined ? DEFAULT_UI_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port ${values.port} is not a port number (0..65535; 0 picks a free one)`, 'ui');
  let server: UiServer;
  try {
    server = await startUiServer({ store: storePath(values.store), port, host: values.host ?? '127.0.0.1' });
  } catch (err) {
    if (!(err instanceof ListenError)) throw err;
    io.err(err.message);
    return 1;
  }
  io.out(`flowlm ui: ${server.url}`);
  const sig = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  io.err(`flowlm ui: ${sig}: stopping`);
  await server.close();
  return 0;
}
