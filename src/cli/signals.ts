// SIGINT/SIGTERM: the first aborts the run, which then drains (sources stop pulling, in-flight batches
// finish, sinks close only what they completed); the CLI reports and exits 128+signo. A second
// signal means "now": exit at once, without waiting for the drain.
import { constants } from 'node:os';

export type StopSignal = 'SIGINT' | 'SIGTERM';
const SIGNALS: readonly StopSignal[] = ['SIGINT', 'SIGTERM'];

/** The conventional exit status of a process ended by `sig`: 130 for SIGINT, 143 for SIGTERM. */
export const exitCodeFor = (sig: StopSignal): number => 128 + constants.signals[sig];

export interface SignalTrap {
  /** the first signal received, if any */
  readonly received: StopSignal | undefined;
  dispose(): void;
}

export interface TrapOptions {
  /** the first signal arrived: the run is draining */
  onSignal?: (sig: StopSignal) => void;
  /** a second signal arrived while draining: called, then the process exits with the signal's code */
  onForce?: (sig: StopSignal) => void;
  exit?: (code: number) => never;
}

export function trapSignals(controller: AbortController, opts: TrapOptions = {}): SignalTrap {
  let received: StopSignal | undefined;
  const handler = (sig: StopSignal) => {
    if (received === undefined) {
      received = sig;
      controller.abort(new Error(`received ${sig}`));
      opts.onSignal?.(sig);
      return;
    }
    opts.onForce?.(sig);
    (opts.exit ?? process.exit)(exitCodeFor(sig));
  };
  for (const s of SIGNALS) process.on(s, handler);
  return {
    get received() {
      return received;
    },
    dispose: () => {
      for (const s of SIGNALS) process.off(s, handler);
    },
  };
}
