// Where the CLI writes (results on stdout, everything else on stderr), and the error for bad usage.

export interface CliIO {
  /** one result line (or block) on stdout */
  out(text: string): void;
  /** one message line (or block) on stderr */
  err(text: string): void;
  readonly stderr: NodeJS.WriteStream;
}

export const processIO: CliIO = {
  out: (text) => {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  },
  err: (text) => {
    process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  },
  stderr: process.stderr,
};

/** Bad command line: printed with a pointer to the help, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** the command whose --help to point at */
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}
