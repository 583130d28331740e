// Types of jit-budget.mjs (plain JavaScript: bin.js loads it before flowlm's TypeScript hooks).
export declare const V8_11_3_BUDGET: number;
export declare const BATCH_FACTOR: number;
export declare const BATCH_COMMANDS: string[];
export declare function batchBudget(
  argv: readonly string[],
  execArgv?: readonly string[],
  v8Version?: string,
): number | undefined;
export declare function applyBatchBudget(argv: readonly string[]): number | undefined;
