// Requests to the NATS server fail while it restarts (timeouts, "connection closed", no responders);
// the cluster's operations are idempotent (message ids, durable names, verified outputs), so they are
// retried with a short pause until a deadline, then reported with what was being done.

export async function retry<T>(op: () => Promise<T>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let pause = 100;
  for (;;) {
    try {
      return await op();
    } catch (err) {
      if (Date.now() + pause > deadline) {
        const why = err instanceof Error ? err.message : String(err);
        throw new Error(`${what}: ${why} (retried for ${Math.round(timeoutMs / 1000)} s)`);
      }
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, 1000);
    }
  }
}
