// The kind of an input, from how its name ends: JSON Lines, Parquet, Arrow IPC, WARC, an http(s) URL,
// or plain text (anything else). A glob's kind is certain only when every name it can match ends the
// same way as far as kinds go: "*.jsonl" and "*.txt" are certain, "*" and "*.gz" (.jsonl.gz,
// .warc.gz or plain gzipped text) are not: such a glob needs a reader per file (read-files.ts).

export type InputKind = 'url' | 'jsonl' | 'parquet' | 'warc' | 'arrow' | 'text';

const EXTENSIONS: Array<[Exclude<InputKind, 'url' | 'text'>, string[]]> = [
  ['jsonl', ['.jsonl', '.ndjson', '.jsonl.gz', '.ndjson.gz']],
  ['parquet', ['.parquet']],
  ['warc', ['.warc', '.warc.gz']],
  ['arrow', ['.arrow', '.arrows', '.ipc', '.feather']],
];

export function inputKind(input: string): InputKind {
  if (/^https?:\/\//i.test(input)) return 'url';
  const name = input.toLowerCase();
  return EXTENSIONS.find(([, exts]) => exts.some((e) => name.endsWith(e)))?.[0] ?? 'text';
}

const MAGIC = /[*?{}[\]]/;
export const isGlob = (input: string): boolean => MAGIC.test(input);

/**
 * The one kind every file a glob can match has, or undefined when it can match several. The pattern's
 * fixed ending (after its last wildcard) decides: it must settle the kind, and no longer known
 * extension may end with it ("*.gz" could be ".warc.gz"). A plain path has its own kind.
 */
export function certainKind(input: string): InputKind | undefined {
  if (!isGlob(input)) return inputKind(input);
  const name = input.toLowerCase();
  let last = -1;
  for (let i = 0; i < name.length; i++) if (MAGIC.test(name[i]!)) last = i;
  const tail = name.slice(last + 1);
  const kind = inputKind(`x${tail}`);
  const longer = EXTENSIONS.some(([k, exts]) => k !== kind && exts.some((e) => e.endsWith(tail)));
  return longer ? undefined : kind;
}
