// A positive integer flag (--workers 2, --max-items 10) or a byte size (--shard-bytes 64M). Apart from
// run-command.ts so commands that need only this (flowlm worker, prep --cluster) do not load what
// `flowlm run` loads (the physical planner, and through it tfjs).
import { UsageError } from './io.ts';

/** A positive integer, or for byte sizes one with a k/M/G suffix (powers of 1024). */
export function parseCount(flag: string, text: string, sizes = false): number {
  const m = /^(\d+)([kKmMgG]i?B?)?$/.exec(text.trim());
  const unit = m?.[2]?.[0]?.toLowerCase();
  const n = m ? Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || (unit && !sizes)) {
    throw new UsageError(
      `--${flag} expects a positive integer${sizes ? ' (optionally with k, M or G: 64M)' : ''}, got "${text}"`,
    );
  }
  return n;
}
