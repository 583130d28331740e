// The run store: runs, their immutable params, metrics (key, step, value, time), artifacts and the
// studies of `flowlm tune`, in one SQLite file (better-sqlite3, WAL). Every write is one short
// transaction, so processes and threads write to one file at once; a metric is keyed by (run, key,
// step), so a retried or resumed write replaces the same row and never duplicates it. A run whose
// process died without saying so (SIGKILL, power loss) is found by its pid and heartbeat and marked
// failed the next time the store is opened (reapStale).
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { STORE_DDL, STORE_VERSION } from './store-schema.ts';

import {
  json,
  newId,
  parse,
  pidAlive,
  REAPED,
  runRow,
  runsQuery,
  STALE_MS,
  StoreError,
  type Artifact,
  type MetricPoint,
  type NewRun,
  type RawRun,
  type RunFilter,
  type RunRow,
  type RunStatus,
  type StudyRow,
} from './store-rows.ts';

export * from './store-rows.ts';

// the native SQLite binding loads when a store is opened: every command links this module (main.ts
// records runs), few open a store (worker, cluster, --help do not)
let sqlite: typeof Database | undefined;
const openDatabase = (path: string, options: Database.Options): Database.Database =>
  new (sqlite ??= createRequire(import.meta.url)('better-sqlite3') as typeof Database)(path, options);

export class RunStore {
  readonly path: string;
  readonly db: Database.Database;

  private constructor(path: string, readonly_: boolean) {
    this.path = path;
    try {
      if (!readonly_) mkdirSync(dirname(path), { recursive: true });
      this.db = openDatabase(path, { readonly: readonly_, fileMustExist: readonly_ });
    } catch (err) {
      throw new StoreError(
        `cannot open the run store ${path}: ${err instanceof Error ? err.message : String(err)} ` +
          '(set --store or FLOWLM_STORE to a writable file)',
      );
    }
    // many writers: wait for the lock instead of failing with SQLITE_BUSY
    this.db.pragma('busy_timeout = 60000');
    // a newer flowlm's store is refused before anything is written to it (read-only too: its tables
    // may mean something else)
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > STORE_VERSION) {
      this.db.close();
      throw new StoreError(
        `${path} is a run store of version ${version}; this flowlm reads up to ${STORE_VERSION} ` +
          '(update flowlm, or give another store with --store or FLOWLM_STORE)',
      );
    }
    if (readonly_) return;
    this.db.pragma('journal_mode = WAL');
    // WAL + NORMAL: a transaction is durable against a process kill (the WAL is in the OS), and a power
    // loss can only drop the last transactions, never corrupt the file
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    if (version < STORE_VERSION)
      this.db
        .transaction(() => {
          this.db.exec(STORE_DDL);
          this.db.pragma(`user_version = ${STORE_VERSION}`);
        })
        .immediate();
  }

  /** Opens (creating when missing) the store at `path` and marks dead runs failed. */
  static open(path: string, opts: { readonly?: boolean; reap?: boolean } = {}): RunStore {
    const store = new RunStore(resolve(path), opts.readonly === true);
    if (!opts.readonly && opts.reap !== false) store.reapStale();
    return store;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  createRun(r: NewRun): RunRow {
    const id = r.id ?? newId();
    const now = Date.now();
    this.db
      .transaction(() => {
        this.db
          .prepare(
            `INSERT INTO runs (id, name, command, argv, study_id, trial, status, started_at, heartbeat_at, pid, host,
               git_commit, git_dirty, config, config_hash, env, run_dir)
             VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            id,
            r.name,
            r.command,
            JSON.stringify(r.argv ?? []),
            r.studyId ?? null,
            r.trial ?? null,
            now,
            now,
            r.pid ?? process.pid,
            hostname(),
            r.git?.commit ?? null,
            r.git?.dirty === undefined || r.git.dirty === null ? null : r.git.dirty ? 1 : 0,
            json(r.config),
            r.configHash ?? null,
            JSON.stringify(r.env ?? {}),
            r.runDir ?? null,
          );
        if (r.params) this.logParams(id, r.params);
      })
      .immediate();
    return this.run(id)!;
  }

  /** Params are immutable: writing a key again with the same value is a no-op, with another an error. */
  logParams(runId: string, params: Record<string, unknown>): void {
    const ins = this.db.prepare('INSERT INTO params (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
    const get = this.db.prepare('SELECT value FROM params WHERE run_id = ? AND key = ?');
    this.db
      .transaction(() => {
        for (const [key, v] of Object.entries(params)) {
          const value = JSON.stringify(v ?? null);
          if (ins.run(runId, key, value).changes === 0) {
            const old = (get.get(runId, key) as { value: string }).value;
            if (old !== value)
              throw new StoreError(`run ${runId}: param "${key}" is ${old} and cannot change to ${value}`);
          }
        }
      })
      .immediate();
  }

  /** One transaction; a (key, step) written again replaces its value. NaN is stored as NULL. */
  logMetrics(runId: string, points: readonly MetricPoint[]): void {
    if (points.length === 0) return;
    const ins = this.db.prepare(
      'INSERT OR REPLACE INTO metrics (run_id, key, step, value, time) VALUES (?, ?, ?, ?, ?)',
    );
    this.db
      .transaction(() => {
        for (const p of points) ins.run(runId, p.key, p.step, Number.isNaN(p.value) ? null : p.value, p.time);
        this.db.prepare('UPDATE runs SET heartbeat_at = ? WHERE id = ?').run(Date.now(), runId);
      })
      .immediate();
  }

  logArtifact(runId: string, a: Artifact): void {
    this.db
      .prepare('INSERT OR REPLACE INTO artifacts (run_id, path, kind, bytes, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(runId, a.path, a.kind, a.bytes ?? null, a.createdAt ?? Date.now());
  }

  forgetArtifact(runId: string, path: string): void {
    this.db.prepare('DELETE FROM artifacts WHERE run_id = ? AND path = ?').run(runId, path);
  }

  /** The resolved config, once the command knows it (a run is created before its spec is read). */
  setConfig(runId: string, config: unknown, hash?: string): void {
    this.db.prepare('UPDATE runs SET config = ?, config_hash = ? WHERE id = ?').run(json(config), hash ?? null, runId);
  }

  setRunDir(runId: string, dir: string): void {
    this.db.prepare('UPDATE runs SET run_dir = ? WHERE id = ?').run(dir, runId);
  }

  /** The process now writing a run (a trial created by the tuner, then taken over by its child). */
  claim(runId: string, pid = process.pid): void {
    this.db
      .prepare('UPDATE runs SET pid = ?, host = ?, heartbeat_at = ? WHERE id = ?')
      .run(pid, hostname(), Date.now(), runId);
  }

  mergeEnv(runId: string, env: Record<string, unknown>): void {
    this.db
      .transaction(() => {
        const r = this.run(runId);
        if (!r) return;
        this.db.prepare('UPDATE runs SET env = ? WHERE id = ?').run(JSON.stringify({ ...r.env, ...env }), runId);
      })
      .immediate();
  }

  heartbeat(runId: string): void {
    this.db.prepare("UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status = 'running'").run(Date.now(), runId);
  }

  /** Ends a running run; a run already ended keeps its status (the first word on how it ended wins). */
  finishRun(runId: string, status: Exclude<RunStatus, 'running'>, error?: string): boolean {
    const now = Date.now();
    return (
      this.db
        .prepare("UPDATE runs SET status = ?, ended_at = ?, error = ? WHERE id = ? AND status = 'running'")
        .run(status, now, error ?? null, runId).changes === 1
    );
  }

  /** Running runs whose process is gone: marked failed. Returns their ids. */
  reapStale(now = Date.now(), staleMs = STALE_MS): string[] {
    const here = hostname();
    const running = this.db.prepare("SELECT id, pid, host, heartbeat_at FROM runs WHERE status = 'running'").all() as {
      id: string;
      pid: number;
      host: string;
      heartbeat_at: number;
    }[];
    // on this host the pid says it all (a training step may hold the event loop past any heartbeat
    // interval); a run on another host is dead when its heartbeats stop
    const gone = (r: (typeof running)[number]) => (r.host === here ? !pidAlive(r.pid) : now - r.heartbeat_at > staleMs);
    const dead = running.filter(gone);
    for (const r of dead) {
      const why =
        r.host === here
          ? `${REAPED} (process ${r.pid} ended without finishing the run: killed or crashed)`
          : `${REAPED} (no heartbeat from ${r.host} pid ${r.pid} for ${Math.round((now - r.heartbeat_at) / 1000)} s)`;
      this.finishRun(r.id, 'failed', why);
    }
    return dead.map((r) => r.id);
  }

  /** A run by id or by a unique id prefix. */
  run(idOrPrefix: string): RunRow | undefined {
    const exact = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(idOrPrefix) as RawRun | undefined;
    if (exact) return runRow(exact);
    if (idOrPrefix === '') return undefined;
    // a plain prefix compare: LIKE would read % and _ in it as wildcards
    const rows = this.db
      .prepare('SELECT * FROM runs WHERE substr(id, 1, ?) = ? LIMIT 2')
      .all(idOrPrefix.length, idOrPrefix) as RawRun[];
    if (rows.length > 1)
      throw new StoreError(`run id prefix "${idOrPrefix}" matches more than one run; give more of it`);
    return rows[0] ? runRow(rows[0]) : undefined;
  }

  /** Runs, newest first. */
  runs(filter: RunFilter = {}): RunRow[] {
    const { sql, args } = runsQuery(filter);
    return (this.db.prepare(sql).all(...args) as RawRun[]).map(runRow);
  }

  params(runId: string): Record<string, unknown> {
    const rows = this.db.prepare('SELECT key, value FROM params WHERE run_id = ? ORDER BY key').all(runId) as {
      key: string;
      value: string;
    }[];
    return Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value)]));
  }

  metricKeys(runId: string): string[] {
    return (
      this.db.prepare('SELECT DISTINCT key FROM metrics WHERE run_id = ? ORDER BY key').all(runId) as { key: string }[]
    ).map((r) => r.key);
  }

  /** Points in step order; `afterStep` gives only later ones (a live view's increment). */
  metrics(runId: string, key?: string, afterStep = -1): MetricPoint[] {
    const rows = (
      key === undefined
        ? this.db
            .prepare('SELECT key, step, value, time FROM metrics WHERE run_id = ? AND step > ? ORDER BY key, step')
            .all(runId, afterStep)
        : this.db
            .prepare(
              'SELECT key, step, value, time FROM metrics WHERE run_id = ? AND key = ? AND step > ? ORDER BY step',
            )
            .all(runId, key, afterStep)
    ) as { key: string; step: number; value: number | null; time: number }[];
    return rows.map((r) => ({ key: r.key, step: r.step, value: r.value ?? Number.NaN, time: r.time }));
  }

  artifacts(runId: string): Artifact[] {
    return (
      this.db
        .prepare('SELECT path, kind, bytes, created_at FROM artifacts WHERE run_id = ? ORDER BY created_at, path')
        .all(runId) as {
        path: string;
        kind: string;
        bytes: number | null;
        created_at: number;
      }[]
    ).map((a) => ({ path: a.path, kind: a.kind, bytes: a.bytes, createdAt: a.created_at }));
  }

  /** Deletes a run with its params, metrics and artifact records (not the artifact files). */
  deleteRun(runId: string): boolean {
    return this.db.prepare('DELETE FROM runs WHERE id = ?').run(runId).changes === 1;
  }

  createStudy(s: { name: string; direction: 'minimize' | 'maximize'; metric: string; spec: unknown }): StudyRow {
    const id = newId();
    this.db
      .prepare('INSERT INTO studies (id, name, direction, metric, spec, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, s.name, s.direction, s.metric, JSON.stringify(s.spec), Date.now());
    return this.study(s.name)!;
  }

  study(name: string): StudyRow | undefined {
    const r = this.db.prepare('SELECT * FROM studies WHERE name = ? OR id = ?').get(name, name) as RawRun | undefined;
    if (!r) return undefined;
    return {
      id: r.id as string,
      name: r.name as string,
      direction: r.direction as 'minimize' | 'maximize',
      metric: r.metric as string,
      spec: parse(r.spec as string),
      createdAt: r.created_at as number,
    };
  }

  studies(): StudyRow[] {
    return (this.db.prepare('SELECT name FROM studies ORDER BY created_at').all() as { name: string }[]).map(
      (r) => this.study(r.name)!,
    );
  }

  /** A study's trial runs in trial order. */
  trials(studyId: string): RunRow[] {
    return (this.db.prepare('SELECT * FROM runs WHERE study_id = ? ORDER BY trial').all(studyId) as RawRun[]).map(
      runRow,
    );
  }
}
