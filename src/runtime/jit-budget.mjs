// How much code V8 runs before it considers optimizing a function, for the data-preparation commands.
// `flowlm prep` (with or without --cluster) and `flowlm worker` are batch processes of a few seconds to
// a few hours on every core: a function that runs long enough to matter is hot within milliseconds
// at any budget, while the many functions that run a little (Arrow IPC, rxjs, zod, the NATS client,
// the merge) were each compiled by TurboFan on V8's helper threads, taking CPU from the work on the
// same cores: a cluster coordinator's helper threads spent ~0.65 s of its ~3.5 s compiling
// (perf, bench cluster's input). Four times V8's budget (its --interrupt-budget) leaves those
// lukewarm functions in the baseline tier. Measured with Node 20 (V8 11.3), where the default is
// 66 KiB of bytecode; other V8 versions tier differently (Maglev) and keep their defaults. A process
// started with its own --interrupt-budget keeps it. Plain JavaScript: bin.js sets it before it loads
// the CLI, so the modules it loads see the budget from their first call.
import { setFlagsFromString } from 'node:v8';
import { setsV8Flag } from './v8-flag.mjs';

/** V8 11.3's --interrupt-budget (node --v8-options). */
export const V8_11_3_BUDGET = 67584;
export const BATCH_FACTOR = 4;
/** The commands the budget applies to: short-lived batch processes measured with it. */
export const BATCH_COMMANDS = ['prep', 'worker'];

/**
 * The budget for a CLI invocation (`argv`: the arguments after the script), or undefined for V8's
 * own: another command, another V8, or a process started with --interrupt-budget.
 * @param {readonly string[]} argv
 * @param {readonly string[]} execArgv
 * @param {string} v8Version
 * @returns {number | undefined}
 */
export function batchBudget(argv, execArgv = process.execArgv, v8Version = process.versions.v8) {
  if (!BATCH_COMMANDS.includes(argv[0] ?? '')) return undefined;
  if (!/^11\.3\./.test(v8Version)) return undefined;
  if (setsV8Flag(execArgv, 'interrupt-budget')) return undefined;
  return V8_11_3_BUDGET * BATCH_FACTOR;
}

/**
 * Sets the budget for this invocation (every thread of the process: V8 flags are per process).
 * @param {readonly string[]} argv
 * @returns {number | undefined} the budget set, if any
 */
export function applyBatchBudget(argv) {
  const budget = batchBudget(argv);
  if (budget !== undefined) setFlagsFromString(`--interrupt-budget=${budget}`);
  return budget;
}
