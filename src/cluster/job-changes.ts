// Wakes a waiting worker as soon as a job record is put (a job starts, or a phase is published), so an
// item starts within a message's latency of being published, not at the next look (it looked every
// 200 ms: ~100 ms lost per job on average). The watch is a hint: a wait always ends after its timeout
// too, so a watch lost with a restarting server costs latency, never an item.
import type { KV } from '@nats-io/kv';

type Watch = Awaited<ReturnType<KV['watch']>>;

export class JobChanges {
  /** job record updates seen so far */
  version = 0;
  private readonly waiters = new Set<(changed: boolean) => void>();
  private constructor(private readonly watch: Watch | undefined) {
    if (watch)
      void (async () => {
        try {
          for await (const _ of watch) {
            this.version++;
            for (const w of this.waiters) w(true);
          }
        } catch {} // the watch ended with an error: the timed waits remain
      })();
  }

  /** Watches `jobs` for updates to `job`'s record (every job's when undefined); watching once this
   * resolves, so a job put after it is seen. */
  static async open(jobs: KV, job?: string): Promise<JobChanges> {
    const watch = await jobs.watch({ key: job ?? '>', include: 'updates', ignoreDeletes: true }).catch(() => undefined); // the server is away: timed waits only
    return new JobChanges(watch);
  }

  /** Resolves once a job record changed after `version` was `since` (at once if one has): true; or
   * after `ms` without a change: false. */
  async after(since: number, ms: number): Promise<boolean> {
    if (this.version !== since) return true;
    let timer: NodeJS.Timeout | undefined;
    let wake = (_changed: boolean) => {};
    const changed = await new Promise<boolean>((resolve) => {
      wake = resolve;
      this.waiters.add(wake);
      timer = setTimeout(() => resolve(false), ms);
    });
    clearTimeout(timer);
    this.waiters.delete(wake);
    return changed;
  }

  close(): void {
    this.watch?.stop();
    for (const w of this.waiters) w(false);
  }
}
