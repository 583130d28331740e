#!/usr/bin/env node
// The `flowlm` executable. Plain JavaScript so it runs without a build step: it registers flowlm's
// TypeScript hooks (src/runtime/ts-register.mjs), then loads the TypeScript CLI (and, through it,
// TypeScript specs and operators). Paths come from this file's real location (Node resolves the
// node_modules/.bin symlink for the main module).
import { applyBatchBudget } from '../runtime/jit-budget.mjs';
import { registerTs } from '../runtime/ts-register.mjs';

applyBatchBudget(process.argv.slice(2)); // prep and worker: V8 optimizes less lukewarm code (jit-budget.mjs)
registerTs();
let main;
try {
  ({ main } = await import(new URL('./main.ts', import.meta.url).href));
} catch (err) {
  // a broken install or source tree: one line, the stack only on request
  const debug = process.env.FLOWLM_DEBUG === '1';
  process.stderr.write(
    `flowlm: internal error: cannot load the CLI: ${String(err?.message ?? err).split('\n')[0]}${debug ? `\n${err?.stack}` : ' (FLOWLM_DEBUG=1 shows the stack)'}\n`,
  );
  process.exit(1);
}
const code = await main(process.argv.slice(2));
process.exitCode = code;
// exit once stdout is flushed (pipes may be asynchronous), even if a stray timer or handle in some
// operator would keep a finished run alive
process.stdout.write('', () => process.exit(code));
