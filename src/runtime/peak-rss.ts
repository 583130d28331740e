// This process's peak resident memory. getrusage's maxRSS is not it for a child process on Linux: the
// kernel keeps that figure across exec, so a process started by a larger one (a benchmark starting
// `flowlm prep`) reports its parent's size at the fork when its own peak is smaller. The memory map's
// high-water mark (VmHWM) starts afresh at exec.
import { readFileSync } from 'node:fs';

/** Peak RSS in MiB since this program started. */
export function peakRssMb(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    /* not Linux: getrusage below */
  }
  return process.resourceUsage().maxRSS / 1024;
}
