// What a data run (`flowlm run`, `flowlm prep`) puts into its recorded run (src/runs): the config of
// every node (and a hash of it), each node's rows in and out, bytes, drops and busy time as metrics
// (`pipeline/<node>/<stat>` at step 0, so `flowlm runs compare` sets two preps side by side), the run's
// seconds and rows per second, and every file a sink completed as an artifact.
import { createHash } from 'node:crypto';
import { withCurrentRun } from '../runs/current-run.ts';
import type { MetricPoint } from '../runs/store.ts';
import type { ResolvedPipeline } from '../graph/validate.ts';
import type { RunResult } from '../runtime/run.ts';

/** The nodes' validated configs (resources by name), in a form JSON can hold. */
export function pipelineConfig(p: ResolvedPipeline): Record<string, unknown> {
  return {
    pipeline: p.name,
    nodes: Object.fromEntries(
      [...p.nodes.values()].map((n) => [n.id, { op: n.def.id, workers: n.workers, config: n.config }]),
    ),
  };
}

export function recordPipelineRun(p: ResolvedPipeline, r: RunResult, warn: (m: string) => void): void {
  withCurrentRun((run) => {
    const config = pipelineConfig(p);
    const text = JSON.stringify(config, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    run.setConfig(JSON.parse(text), createHash('sha256').update(text).digest('hex').slice(0, 16));
    const time = Date.now();
    const points: MetricPoint[] = [{ key: 'pipeline/seconds', step: 0, value: r.durationMs / 1000, time }];
    for (const [id, s] of Object.entries(r.nodes)) {
      const stats: Record<string, number> = {
        rows_in: s.rowsIn,
        rows_out: s.rowsOut,
        bytes_in: s.bytesIn,
        bytes_out: s.bytesOut,
        dropped: s.dropped,
        busy_ms: s.busyMs,
      };
      for (const [k, v] of Object.entries(stats)) points.push({ key: `pipeline/${id}/${k}`, step: 0, value: v, time });
    }
    run.logMetrics(points);
    for (const sink of r.sinks) for (const f of sink.files) run.logArtifact(f, `output:${sink.node}`);
  }, warn);
}
