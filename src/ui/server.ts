// `flowlm ui`'s HTTP server (node:http): the single-page app of src/ui/app/, the browser builds of
// vega, vega-lite and vega-embed under /vendor/ (from node_modules: the page needs no network), and a
// JSON API over the run store:
//   GET /api/runs                          every run's summary (run-summary.ts), newest first
//   GET /api/runs/:id                      one run: summary, config, argv, env, git, artifacts
//   GET /api/metrics?runs=a,b&after=STEP   points with step > STEP (default all) by run and key
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { RunStore, StoreError } from '../runs/store.ts';
import { browserModule, vendorFile } from './browser-module.ts';
import { metricPairs, runSummary } from './run-summary.ts';

export interface UiServerOptions {
  /** the run store's file (it is created when missing, like every command's store) */
  store: string;
  port?: number;
  host?: string;
}

export interface UiServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const APP_FILES: Record<string, [string, string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/app.css': ['app.css', 'text/css; charset=utf-8'],
};
const appFile = (name: string) => readFileSync(fileURLToPath(new URL(`./app/${name}`, import.meta.url)), 'utf8');

// a dashboard left open notices a run whose process died (it is marked failed, as on any store open)
const REAP_EVERY_MS = 10_000;

/** The server cannot listen (the port is taken, the address is not this machine's). */
export class ListenError extends Error {
  override name = 'ListenError';
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

const ids = (s: string | null) => (s ?? '').split(',').filter((x) => x !== '');

export async function startUiServer(opts: UiServerOptions): Promise<UiServer> {
  const store = RunStore.open(opts.store);
  let reapedAt = Date.now();
  const find = (id: string) => {
    const run = store.run(id);
    if (!run) throw new HttpError(404, `no run "${id}" in the store ${store.path}`);
    return run;
  };

  const api = (path: string, q: URLSearchParams): unknown => {
    if (path === '/api/runs') {
      if (Date.now() - reapedAt > REAP_EVERY_MS) {
        reapedAt = Date.now();
        store.reapStale();
      }
      return { store: store.path, runs: store.runs().map((r) => runSummary(store, r)) };
    }
    const one = /^\/api\/runs\/([^/]+)$/.exec(path);
    if (one) {
      const run = find(decodeURIComponent(one[1]!));
      const { config, argv, env, git, runDir, host, pid } = run;
      return {
        ...runSummary(store, run),
        config,
        argv,
        env,
        git,
        runDir,
        host,
        pid,
        artifacts: store.artifacts(run.id),
      };
    }
    if (path === '/api/metrics') {
      const after = q.get('after') === null ? -1 : Number(q.get('after'));
      if (!Number.isFinite(after)) throw new HttpError(400, `after=${q.get('after')} is not a step number`);
      const runs: Record<string, Record<string, [number, number | null][]>> = {};
      for (const id of ids(q.get('runs'))) runs[id] = metricPairs(store, find(id).id, after);
      return { runs };
    }
    throw new HttpError(404, `no API ${path} (see src/ui/server.ts)`);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `${req.method} is not served`);
      if (url.pathname.startsWith('/api/')) {
        send(res, 200, 'application/json', JSON.stringify(api(url.pathname, url.searchParams)));
        return;
      }
      const app = Object.hasOwn(APP_FILES, url.pathname) ? APP_FILES[url.pathname] : undefined;
      if (app) return send(res, 200, app[1], appFile(app[0]));
      if (url.pathname === '/chart-spec.js')
        return send(res, 200, 'text/javascript; charset=utf-8', browserModule('./chart-spec.ts'));
      if (url.pathname.startsWith('/vendor/')) {
        const js = vendorFile(url.pathname.slice('/vendor/'.length));
        if (js !== undefined) return send(res, 200, 'text/javascript; charset=utf-8', js);
      }
      if (url.pathname === '/favicon.ico') return send(res, 204, 'text/plain', '');
      throw new HttpError(404, `not found: ${url.pathname}`);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : err instanceof StoreError ? 400 : 500;
      const message = err instanceof Error ? err.message : String(err);
      send(res, status, 'application/json', JSON.stringify({ error: message }));
    }
  };

  const server: Server = createServer(handle);
  // an open page polls with keep-alive: close() must not wait for its sockets to time out
  server.keepAliveTimeout = 2_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      store.close();
      reject(
        new ListenError(
          `flowlm ui: cannot listen on ${opts.host ?? '127.0.0.1'}:${opts.port ?? 0}: ${err.message}` +
            (err.code === 'EADDRINUSE' ? ' (choose another --port, or --port 0 for a free one)' : ''),
        ),
      );
    });
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host ?? '127.0.0.1';
  const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `http://${shown}:${port}/`,
    port,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      store.close();
    },
  };
}
