// `node --import <flowlm>/src/runtime/ts-import.mjs file.ts`: flowlm's TypeScript hooks (ts-register.mjs)
// for a process that runs a .ts file itself (scripts, the tests' child processes), as bin.js registers
// them for the CLI: faster to start than tsx's (README, start-up). Plain JavaScript.
import { registerTs } from './ts-register.mjs';

registerTs();
