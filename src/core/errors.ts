// Errors say what, where (operator, file, row, field) and what to do.

/** Where in the input a problem happened; every field optional, the more the better. */
export interface InputLocation {
  file?: string;
  offset?: number; // byte offset in file
  line?: number;
  row?: number; // row within the batch or file
  field?: string;
  batch?: number; // index of the batch the operator received
}

export function formatLocation(loc: InputLocation | undefined): string {
  if (!loc) return '';
  const parts: string[] = [];
  if (loc.file) parts.push(loc.file);
  if (loc.line !== undefined) parts.push(`line ${loc.line}`);
  if (loc.offset !== undefined) parts.push(`byte ${loc.offset}`);
  if (loc.batch !== undefined) parts.push(`batch ${loc.batch}`);
  if (loc.row !== undefined) parts.push(`row ${loc.row}`);
  if (loc.field) parts.push(`field ${loc.field}`);
  return parts.join(', ');
}

/** A runtime failure inside an operator: names the node, the input location and the cause. */
export class FlowError extends Error {
  override readonly name = 'FlowError';
  constructor(
    readonly operator: string,
    readonly reason: string,
    readonly location: InputLocation = {},
    options?: { cause?: unknown },
  ) {
    const where = formatLocation(location);
    super(`[${operator}]${where ? ` at ${where}` : ''}: ${reason}`, options);
  }

  /** Wrap anything thrown inside an operator, keeping an existing FlowError's own location. */
  static wrap(operator: string, err: unknown, location: InputLocation = {}): FlowError {
    if (err instanceof FlowError) return err;
    const msg = err instanceof Error ? err.message : String(err);
    return new FlowError(operator, msg, location, { cause: err });
  }

  toJSON(): { operator: string; message: string; location: InputLocation } {
    return { operator: this.operator, message: this.message, location: this.location };
  }
}

/** One problem found while validating a pipeline spec, with the path where it is. */
export interface SpecIssue {
  path: string;
  message: string;
}

/** Every problem of an invalid spec at once; the CLI prints it and exits 2. */
export class SpecError extends Error {
  override readonly name = 'SpecError';
  constructor(
    readonly issues: SpecIssue[],
    source?: string,
  ) {
    super(
      `invalid pipeline${source ? ` ${source}` : ''}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n` +
        issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n'),
    );
  }
}

/** The run was cancelled (signal or AbortSignal); not a bug in any operator. */
export class CancelledError extends Error {
  override readonly name = 'CancelledError';
  constructor(readonly why: string) {
    super(`cancelled: ${why}`);
  }
}
