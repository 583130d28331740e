// Runs tasks one after another, synchronously while they return plain values, waiting only for the
// ones that return promises. Keeps synchronous operators synchronous (and marble-testable).
export class Serial {
  private queue: Array<() => unknown> = [];
  private running = false;
  constructor(private readonly onError: (err: unknown) => void) {}

  push(task: () => unknown): void {
    this.queue.push(task);
    if (!this.running) this.run();
  }

  private run(): void {
    this.running = true;
    while (this.queue.length > 0) {
      const task = this.queue.shift()!;
      let r: unknown;
      try {
        r = task();
      } catch (err) {
        this.queue = [];
        this.running = false;
        this.onError(err);
        return;
      }
      if (r instanceof Promise) {
        r.then(
          () => this.run(),
          (err: unknown) => {
            this.queue = [];
            this.running = false;
            this.onError(err);
          },
        );
        return;
      }
    }
    this.running = false;
  }

  clear(): void {
    this.queue = [];
  }
}
