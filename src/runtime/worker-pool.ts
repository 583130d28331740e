// Placeholder: worker threads come in the worker-pool change. Runs nothing yet.
export class WorkerPool {
  async close(): Promise<void> {}
}
