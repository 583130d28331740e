// How socket ranks find each other (like torchrun's master address): rank 0 listens on the master
// port; every other rank connects to it (retrying until the deadline), opens a listener of its own on
// the address it reached the master from and registers it. When all have registered, rank 0 sends
// everyone the address table and each rank connects to its right neighbour. The connections to rank 0
// stay open as the control channel (failures are announced there).
import { createServer, type Server, type Socket } from 'node:net';
import { CollectiveError } from './collective.ts';
import { Conn, connectRetry } from './connection.ts';

export interface RendezvousOptions {
  rank: number;
  worldSize: number;
  master: { host: string; port: number };
  /** give up after this long (ms) */
  timeoutMs: number;
  /** rank 0: called once it listens (with the actual port when master.port is 0) */
  onListening?: (address: { host: string; port: number }) => void;
}

export interface Links {
  /** to rank+1: data goes out, acknowledgements come back */
  right: Conn;
  /** from rank-1 */
  left: Conn;
  /** rank 0: every other rank's control connection by rank; others: rank 0's */
  control: Map<number, Conn>;
}

interface Addr {
  host: string;
  port: number;
}
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) ? v : undefined);

function listen(host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      resolve(server);
    });
  });
}

/** Settles with `work` or rejects when `deadline` passes first, describing what was still missing. */
function withDeadline<T>(work: Promise<T>, deadline: number, missing: () => string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out: ${missing()}`)), Math.max(0, deadline - Date.now()));
    work.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

export async function rendezvous(o: RendezvousOptions): Promise<Links> {
  const deadline = Date.now() + o.timeoutMs;
  const opened: Conn[] = [];
  let server: Server | undefined;
  const where = `rank ${o.rank} of ${o.worldSize} (master ${o.master.host}:${o.master.port})`;
  try {
    return o.rank === 0
      ? await asMaster(o, deadline, opened, (s) => {
          server = s;
        })
      : await asWorker(o, deadline, opened, (s) => {
          server = s;
        });
  } catch (err) {
    for (const c of opened) c.destroy();
    const msg = err instanceof Error ? err.message : String(err);
    throw new CollectiveError(
      err instanceof CollectiveError ? err.failedRank : undefined,
      `rendezvous of ${where} failed after ${Math.round(o.timeoutMs - (deadline - Date.now()))} ms: ${msg}`,
      { cause: err },
    );
  } finally {
    server?.close();
  }
}

/** Hands each accepted connection's first (handshake) message to `onHello`. */
function accept(
  server: Server,
  opened: Conn[],
  onHello: (conn: Conn, hello: Record<string, unknown>) => void,
  onError: (e: Error) => void,
): void {
  server.on('connection', (sock: Socket) => {
    const conn = new Conn(sock);
    opened.push(conn);
    conn.nextControl().then(
      (hello) => onHello(conn, hello),
      () => conn.destroy(),
    );
  });
  server.on('error', onError);
}

async function asMaster(
  o: RendezvousOptions,
  deadline: number,
  opened: Conn[],
  keep: (s: Server) => void,
): Promise<Links> {
  const { worldSize: w } = o;
  const server = await listen(o.master.host, o.master.port);
  keep(server);
  const self = { host: o.master.host, port: (server.address() as { port: number }).port };
  o.onListening?.(self);
  const control = new Map<number, Conn>();
  const addrs: Addr[] = [self];
  let left: Conn | undefined;
  let fail!: (e: Error) => void, leftReady!: () => void, allRegistered!: () => void;
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failed.catch(() => undefined); // raced below; a failure after the rendezvous is the transport's
  const gotLeft = new Promise<void>((r) => {
    leftReady = r;
  });
  const registered = new Promise<void>((r) => {
    allRegistered = r;
  });
  accept(
    server,
    opened,
    (conn, hello) => {
      const rank = num(hello.rank);
      const refuse = (why: string) => {
        conn.control({ t: 'reject', reason: why });
        void conn.close();
      };
      if (num(hello.worldSize) !== w) return refuse(`world size ${String(hello.worldSize)} differs from rank 0's ${w}`);
      if (hello.kind === 'ring' && rank === w - 1 && !left) {
        left = conn;
        leftReady();
        return;
      }
      const port = num(hello.port);
      if (
        hello.kind !== 'control' ||
        rank === undefined ||
        rank < 1 ||
        rank >= w ||
        typeof hello.host !== 'string' ||
        port === undefined
      )
        return refuse(`unexpected handshake ${JSON.stringify(hello)}`);
      if (control.has(rank))
        return refuse(`rank ${rank} has registered already (two processes were given the same rank?)`);
      control.set(rank, conn);
      addrs[rank] = { host: hello.host, port };
      conn.onEnd((e) => fail(new CollectiveError(rank, `rank ${rank} was lost (${e.why})`)));
      if (control.size === w - 1) allRegistered();
    },
    fail,
  );
  const missing = () => {
    const absent = Array.from({ length: w - 1 }, (_, i) => i + 1).filter((r) => !control.has(r));
    return absent.length
      ? `rank${absent.length > 1 ? 's' : ''} ${absent.join(', ')} did not register`
      : `rank ${w - 1} did not connect as rank 0's left neighbour`;
  };
  await withDeadline(Promise.race([registered, failed]), deadline, missing);
  for (const c of control.values()) c.control({ t: 'table', addrs });
  const right = await connectRetry(addrs[1]!.host, addrs[1]!.port, deadline);
  opened.push(right);
  right.control({ t: 'hello', kind: 'ring', rank: 0, worldSize: w });
  await withDeadline(Promise.race([gotLeft, failed]), deadline, missing);
  return { right, left: left!, control };
}

async function asWorker(
  o: RendezvousOptions,
  deadline: number,
  opened: Conn[],
  keep: (s: Server) => void,
): Promise<Links> {
  const { rank, worldSize: w } = o;
  const master = await connectRetry(o.master.host, o.master.port, deadline);
  opened.push(master);
  const host = master.socket.localAddress ?? '127.0.0.1';
  const server = await listen(host, 0);
  keep(server);
  const port = (server.address() as { port: number }).port;
  let fail!: (e: Error) => void;
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failed.catch(() => undefined); // raced below; a failure after the rendezvous is the transport's
  let gotLeft!: (c: Conn) => void;
  const leftConn = new Promise<Conn>((r) => {
    gotLeft = r;
  });
  accept(
    server,
    opened,
    (conn, hello) => {
      if (hello.kind === 'ring' && num(hello.rank) === rank - 1 && num(hello.worldSize) === w) gotLeft(conn);
      else {
        conn.control({
          t: 'reject',
          reason: `rank ${rank} expected its left neighbour ${rank - 1}, got ${JSON.stringify(hello)}`,
        });
        void conn.close();
      }
    },
    fail,
  );
  const table = master.nextControl();
  master.control({ t: 'hello', kind: 'control', rank, worldSize: w, host, port });
  const reply = await withDeadline(
    Promise.race([table, failed]),
    deadline,
    () => 'rank 0 did not send the address table (some rank did not register?)',
  );
  master.onEnd((e) => fail(new CollectiveError(0, `rank 0 was lost (${e.why})`)));
  if (reply.t === 'reject') throw new CollectiveError(0, `rank 0 refused rank ${rank}: ${String(reply.reason)}`);
  const addrs = reply.addrs;
  const next = Array.isArray(addrs) ? (addrs[(rank + 1) % w] as Partial<Addr> | undefined) : undefined;
  if (reply.t !== 'table' || typeof next?.host !== 'string' || typeof next.port !== 'number')
    throw new Error(`bad address table from rank 0: ${JSON.stringify(reply)}`);
  const right = await connectRetry(next.host, next.port, deadline);
  opened.push(right);
  right.control({ t: 'hello', kind: 'ring', rank, worldSize: w });
  const left = await withDeadline(
    Promise.race([leftConn, failed]),
    deadline,
    () => `rank ${rank - 1} did not connect as rank ${rank}'s left neighbour`,
  );
  return { right, left, control: new Map([[0, master]]) };
}
