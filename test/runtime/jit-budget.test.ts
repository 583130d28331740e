import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BATCH_FACTOR, V8_11_3_BUDGET, batchBudget } from '../../src/runtime/jit-budget.mjs';

const MODULE = fileURLToPath(new URL('../../src/runtime/jit-budget.mjs', import.meta.url));

// A child that sets the budget for the command in ARGV (as bin.js does), then calls a small function
// until TurboFan has optimized it (compiled on the calling thread: --no-concurrent-recompilation) and
// prints how many calls that took. The calling loop itself is never optimized, so it cannot inline
// the function and hide its status.
const PROBE = `
const { applyBatchBudget } = await import(${JSON.stringify(MODULE)});
applyBatchBudget(JSON.parse(process.env.ARGV));
function f(a, b) { let s = 0; for (let i = 0; i < 8; i++) s += (a * i) ^ b; return s; }
function calls() {
  for (let n = 1; n <= 2_000_000; n++) {
    f(n, 7);
    if (n % 64 === 0 && (%GetOptimizationStatus(f) & 16) !== 0) return n;
  }
  return -1;
}
%NeverOptimizeFunction(calls);
console.log(calls());
`;

const callsToOptimize = (argv: string[]): number =>
  Number(
    execFileSync(
      process.execPath,
      ['--allow-natives-syntax', '--no-concurrent-recompilation', '--input-type=module', '-e', PROBE],
      { env: { ...process.env, ARGV: JSON.stringify(argv) }, encoding: 'utf8' },
    ).trim(),
  );

describe('JIT budget of the data-preparation commands', () => {
  it('is four times V8 11.3 own for prep and worker, and V8 own otherwise', () => {
    const v = '11.3.244.8-node.33';
    expect(batchBudget(['prep', '--input', 'x'], [], v)).toBe(V8_11_3_BUDGET * BATCH_FACTOR);
    expect(batchBudget(['worker', '--cluster', 'nats://h:4222'], [], v)).toBe(V8_11_3_BUDGET * BATCH_FACTOR);
    for (const cmd of [['train', 'x.ts'], ['run', 'x.ts'], ['cluster', 'status'], []])
      expect(batchBudget(cmd, [], v)).toBeUndefined();
    // another V8 tiers otherwise (measured on 11.3 only)
    expect(batchBudget(['prep'], [], '12.4.254.21-node.33')).toBeUndefined();
    // a process started with its own budget keeps it
    expect(batchBudget(['prep'], ['--interrupt-budget=1000'], v)).toBeUndefined();
    expect(batchBudget(['prep'], ['--interrupt_budget=1000'], v)).toBeUndefined();
  });

  it.runIf(/^11\.3\./.test(process.versions.v8))('makes V8 run a function longer before optimizing it', () => {
    const plain = callsToOptimize(['train']);
    const batch = callsToOptimize(['prep']);
    expect(plain).toBeGreaterThan(0);
    expect(batch).toBeGreaterThan(0);
    // the budget is 4x: the function runs at least twice as long unoptimized
    expect(batch).toBeGreaterThan(2 * plain);
  });
});
