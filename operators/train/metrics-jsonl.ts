// The metrics log's line format: one JSON object per metric row. JSON has no NaN or Infinity, and a
// diverging loss is exactly the value a log must keep, so non-finite values are written as the
// strings "NaN", "Infinity" and "-Infinity". `time` is milliseconds since the epoch. Every value reads
// back as the same double.
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { MetricRow } from '../../src/schema/metrics.ts';

export function metricLine(r: MetricRow): string {
  // JSON.stringify writes -0 as 0; the literal -0 is valid JSON and parses back to -0
  const value = !Number.isFinite(r.value) ? `"${r.value}"` : Object.is(r.value, -0) ? '-0' : JSON.stringify(r.value);
  return `{"step":${r.step},"split":${JSON.stringify(r.split)},"name":${JSON.stringify(r.name)},"value":${value},"time":${r.time}}\n`;
}

const NON_FINITE: Record<string, number> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
};

/** A row from one line, or a message saying what is wrong with it. */
export function parseMetricLine(line: string): MetricRow | string {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  const { step, split, name, value, time } = (o ?? {}) as Record<string, unknown>;
  const v = typeof value === 'string' ? NON_FINITE[value] : value;
  if (
    typeof step !== 'number' ||
    !Number.isSafeInteger(step) ||
    typeof split !== 'string' ||
    typeof name !== 'string' ||
    typeof v !== 'number' ||
    typeof time !== 'number'
  )
    return 'expected {step: integer, split: string, name: string, value: number, time: number}';
  return { step, split, name, value: v, time };
}

/** Complete lines of a metrics log. A last line without its newline is the tail of a write cut short
 * by a kill and is left out; any other bad line is an error naming the file and line. */
export async function* readMetricLines(path: string): AsyncGenerator<MetricRow> {
  if (!existsSync(path)) return;
  const stream = createReadStream(path, { encoding: 'utf8' });
  let pending: string | undefined;
  let lineNo = 0;
  // readline hides whether the last line had a newline: check the byte before EOF instead
  let endsWithNewline = true;
  stream.on('data', (chunk) => {
    if (chunk.length > 0) endsWithNewline = String(chunk).endsWith('\n');
  });
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
    if (pending !== undefined) yield parsed(pending, path, lineNo);
    lineNo++;
    pending = line.trim() === '' ? undefined : line;
  }
  if (pending !== undefined && endsWithNewline) yield parsed(pending, path, lineNo);
}

function parsed(line: string, path: string, lineNo: number): MetricRow {
  const r = parseMetricLine(line);
  if (typeof r === 'string') throw new Error(`metrics log ${path} line ${lineNo}: ${r}; fix or remove the line`);
  return r;
}
