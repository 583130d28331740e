// Types of v8-flag.mjs (plain JavaScript: bin.js loads it before flowlm's TypeScript hooks).
export declare function setsV8Flag(args: readonly string[], name: string): boolean;
