// Whether a process was started with one of V8's flags: flowlm sets some V8 flags for its own commands
// (jit-budget.mjs, pool-heap.ts, heap-growth.ts) and leaves a flag the user gave alone. Plain JavaScript:
// bin.js asks before flowlm's TypeScript hooks load.

/**
 * Whether `args` (a process's execArgv) set V8's flag `name` (given with dashes; V8 takes dashes or
 * underscores, and `--name=value` or `--name value`). NODE_OPTIONS need not be read: Node refuses these
 * flags there ("is not allowed in NODE_OPTIONS"; it allows a few, such as --max-old-space-size).
 * @param {readonly string[]} args
 * @param {string} name
 * @returns {boolean}
 */
export function setsV8Flag(args, name) {
  const re = new RegExp(`^--${name.replace(/-/g, '[-_]')}(=|$)`);
  return args.some((a) => re.test(a));
}
