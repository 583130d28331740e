// `flowlm <command>`: dispatch, and the last word on errors: bad usage and invalid specs exit 2 with
// a readable message, anything unexpected exits 1 with one line (its stack with FLOWLM_DEBUG=1).
import { readFileSync } from 'node:fs';
import { SpecError } from '../core/errors.ts';
import { defaultRegistry, type Registry } from '../graph/registry.ts';
import { processIO, UsageError, type CliIO } from './io.ts';
import { RECORDED_COMMANDS, recordCommand } from '../runs/record-command.ts';

const version = (): string => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
};

type Command = (argv: string[], io: CliIO, registry: Registry) => Promise<number>;
// Commands load on use: training pulls in tfjs and the tokenizers, which data-only commands must not
// pay for in start-up time and memory.
const COMMANDS: Record<string, Command> = {
  run: async (...a) => (await import('./run-command.ts')).runCommand(...a),
  prep: async (...a) => (await import('./prep-command.ts')).prepCommand(...a),
  ops: async (...a) => (await import('./ops-command.ts')).opsCommand(...a),
  train: async (argv, io) => (await import('./train-command.ts')).trainCommand(argv, io),
  plan: async (...a) => (await import('./plan-command.ts')).planCommand(...a),
  generate: async (argv, io) => (await import('./generate-command.ts')).generateCommand(argv, io),
  export: async (argv, io) => (await import('./export-command.ts')).exportCommand(argv, io),
  eval: async (argv, io) => (await import('./eval-command.ts')).evalCommand(argv, io),
  runs: async (argv, io) => (await import('./runs-command.ts')).runsCommand(argv, io),
  tune: async (argv, io) => (await import('./tune-command.ts')).tuneCommand(argv, io),
  ui: async (argv, io) => (await import('./ui-command.ts')).uiCommand(argv, io),
  report: async (argv, io) => (await import('./report-command.ts')).reportCommand(argv, io),
  tokenizer: async (...a) => (await import('./tokenizer-command.ts')).tokenizerCommand(...a),
  worker: async (argv, io) => (await import('./worker-command.ts')).workerCommand(argv, io),
  cluster: async (argv, io) => (await import('./cluster-command.ts')).clusterCommand(argv, io),
};

// help.ts lists every operator (ops-command.ts loads them all): ~0.5 s of start-up that only help needs
const mainHelp = async (v: string) => (await import('./help.ts')).mainHelp(v);
const runHelp = async (r: Registry) => (await import('./help.ts')).runHelp(r);

async function dispatch(argv: string[], io: CliIO, registry: Registry): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined) {
    io.err(await mainHelp(version()));
    return 2;
  }
  if (cmd === '--help' || cmd === '-h') {
    io.out(await mainHelp(version()));
    return 0;
  }
  if (cmd === '--version' || cmd === '-v') {
    io.out(version());
    return 0;
  }
  if (cmd === 'help') {
    const topic = rest[0];
    if (topic === undefined) {
      io.out(await mainHelp(version()));
      return 0;
    }
    if (topic === 'run') {
      io.out(await runHelp(registry));
      return 0;
    }
    if (topic in COMMANDS) return COMMANDS[topic]!(['--help'], io, registry);
    throw new UsageError(`no help for unknown command "${topic}"`);
  }
  const command = COMMANDS[cmd];
  if (!command) throw new UsageError(`unknown command "${cmd}" (commands: ${Object.keys(COMMANDS).join(', ')})`);
  if (RECORDED_COMMANDS.has(cmd)) return recordCommand(cmd, rest, io, (argv, tee) => command(argv, tee, registry));
  return command(rest, io, registry);
}

export async function main(
  argv: string[],
  io: CliIO = processIO,
  registry: Registry = defaultRegistry,
): Promise<number> {
  try {
    return await dispatch(argv, io, registry);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`flowlm: ${err.message}\nsee: flowlm ${err.command ? `${err.command} ` : ''}--help`);
      return 2;
    }
    if (err instanceof SpecError) {
      io.err(err.message);
      return 2;
    }
    const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    io.err(
      `flowlm: internal error: ${msg.split('\n')[0]}${process.env.FLOWLM_DEBUG === '1' ? '' : ' (FLOWLM_DEBUG=1 shows the stack)'}`,
    );
    if (process.env.FLOWLM_DEBUG === '1' && err instanceof Error && err.stack) io.err(err.stack);
    return 1;
  }
}
