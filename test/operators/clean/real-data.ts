// Real text for the cleaning tests: State of the Union addresses, Moby-Dick, SpamAssassin e-mails and
// Debian's PostgreSQL HTML manual (apt package postgresql-doc-15; test/setup installs it), plus a
// runner that pushes batches through an operator in plain RxJS and returns rows and stats.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Utf8, type RecordBatch } from 'apache-arrow';
import { from, lastValueFrom, toArray, type Observable } from 'rxjs';
import { OperatorStats, type StatsSnapshot } from '../../../src/core/stats.ts';
import { batchFromColumns, schemaOf } from '../../../src/schema/index.ts';
import { mobyDickChapters, sotuTexts, spamAssassinDir } from '../../../operators/ingest/embedded-corpus.ts';

export const PG_HTML = '/usr/share/doc/postgresql-doc-15/html';

export function pgPages(names?: string[]): Array<{ name: string; html: string }> {
  if (!existsSync(PG_HTML))
    throw new Error(
      `${PG_HTML} is missing: install the Debian package postgresql-doc-15 (test/setup/install-debian-docs.sh)`,
    );
  const files =
    names ??
    readdirSync(PG_HTML)
      .filter((f) => f.endsWith('.html'))
      .sort();
  return files.map((name) => ({ name, html: readFileSync(join(PG_HTML, name), 'utf8') }));
}

const listTxt = (pattern: string) => {
  const dir = dirname(pattern);
  const prefix = pattern.slice(dir.length + 1).split('*')[0]!;
  return readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.txt'))
    .sort()
    .map((f) => join(dir, f));
};
export const sotu = (): Array<{ name: string; text: string }> =>
  listTxt(sotuTexts()).map((f) => ({ name: f.split('/').pop()!, text: readFileSync(f, 'utf8') }));
export const mobyDick = (): Array<{ name: string; text: string }> =>
  listTxt(mobyDickChapters()).map((f) => ({ name: f.split('/').pop()!, text: readFileSync(f, 'utf8') }));

/** The whole book as the package ships it a second time (typeset: curly quotes, em dashes). */
export const mobyDickWhole = (): string => readFileSync(join(dirname(mobyDickChapters()), 'data.txt'), 'utf8');

/** Raw RFC 822 messages of one SpamAssassin group (spam-1, spam-2, easy-ham-1, hard-ham-1...). */
export function emails(group: string, limit = Infinity): Array<{ name: string; text: string }> {
  const dir = join(spamAssassinDir(), group);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .slice(0, limit)
    .map((f) => ({ name: f, text: (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { text: string }).text }));
}

type TextRow = { text: Utf8; n: Utf8 };
/** One batch with `text` and a row label `n` (to see which rows survive). */
export const textBatch = (texts: readonly string[], labels?: readonly string[]): RecordBatch =>
  batchFromColumns(schemaOf<TextRow>({ text: { type: new Utf8() }, n: { type: new Utf8() } }), {
    text: [...texts],
    n: labels ? [...labels] : texts.map((_, i) => String(i)),
  }) as unknown as RecordBatch;

type Op = (config?: never, ctx?: { stats: OperatorStats }) => (s: Observable<RecordBatch>) => Observable<RecordBatch>;

/** Run `op` over `batches` in plain RxJS; rows as objects, and the operator's stats. */
export async function runOp(
  op: unknown,
  config: unknown,
  batches: RecordBatch[],
): Promise<{ rows: Array<Record<string, unknown>>; batches: RecordBatch[]; stats: StatsSnapshot }> {
  const stats = new OperatorStats('test');
  const out = await lastValueFrom(from(batches).pipe((op as Op)(config as never, { stats }), toArray()));
  return {
    rows: out.flatMap((b) => b.toArray().map((r) => r.toJSON() as Record<string, unknown>)),
    batches: out,
    stats: stats.snapshot(),
  };
}
