// read-jsonl on real e-mails: configurable fields, .gz, and bad lines (malformed JSON, invalid UTF-8, no
// text) counted with file and line number, written to a rejects file, never a crash or a silent skip.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { readJsonl } from '../../../operators/ingest/read-jsonl.ts';
import { FlowError } from '../../../src/core/errors.ts';
import { runPipeline } from '../../../src/runtime/run.ts';
import { writeJsonl } from '../../../operators/io/write-jsonl.ts';
import { cleanup, drain, emails, tmp } from './helpers.ts';

const dir = tmp('read-jsonl');
afterAll(() => cleanup(dir));

const mails = emails(60);
/** one JSON object per e-mail, the text under meta.body and the id under key */
const line = (m: { name: string; text: string }, i: number) =>
  JSON.stringify({ key: `mail-${i}`, link: `https://spamassassin.example/${m.name}`, meta: { body: m.text } });
const config = { textField: 'meta.body', idField: 'key', urlField: 'link' };

describe('ingest/read-jsonl', () => {
  it('maps configured (nested) fields to Doc columns, plain and .gz alike', async () => {
    const file = join(dir, 'mails.jsonl');
    writeFileSync(file, mails.map(line).join('\n') + '\n');
    writeFileSync(`${file}.gz`, gzipSync(readFileSync(file)));
    const r = await drain(readJsonl, { paths: [file], ...config, source: 'spam-assassin', batchRows: 16 });
    expect(r.error).toBeUndefined();
    expect(r.rows).toEqual(
      mails.map((m, i) => ({
        id: `mail-${i}`,
        text: m.text,
        url: `https://spamassassin.example/${m.name}`,
        source: 'spam-assassin',
      })),
    );
    expect(r.batches.map((b) => b.numRows)).toEqual([16, 16, 16, 12]);
    const gz = await drain(readJsonl, { paths: [`${file}.gz`], ...config, source: 'spam-assassin' });
    expect(gz.rows).toEqual(r.rows);
    // without an id field, ids are stable per file and line
    const noId = await drain(readJsonl, { paths: [file], ...config, idField: 'absent' });
    const again = await drain(readJsonl, { paths: [file], ...config, idField: 'absent' });
    expect(noId.rows.map((x) => x.id)).toEqual(again.rows.map((x) => x.id));
    expect(new Set(noId.rows.map((x) => x.id)).size).toBe(mails.length);
  });

  it('bad lines are counted rejects with file and line number; good lines before and after are kept', async () => {
    const lines = mails.slice(0, 30).map((m, i) => Buffer.from(line(m, i)));
    const bad = new Map<number, [string, Buffer]>([
      [5, ['malformed JSON', Buffer.from(line(mails[5]!, 5).slice(0, 200))]], // cut mid-object
      [
        12,
        [
          'invalid UTF-8',
          Buffer.concat([lines[12]!.subarray(0, 40), Buffer.from([0xc3, 0x28]), lines[12]!.subarray(40)]),
        ],
      ],
      [20, ['no text field', Buffer.from(JSON.stringify({ key: 'mail-20', body: mails[20]!.text }))]],
    ]);
    const file = join(dir, 'bad.jsonl');
    const content = lines.map((l, i) => bad.get(i)?.[1] ?? l);
    writeFileSync(file, Buffer.concat(content.flatMap((l) => [l, Buffer.from('\n')])));
    const rejects = join(dir, 'out', 'rejects.jsonl');

    const r = await drain(readJsonl, { paths: [file], ...config, rejects });
    expect(r.error).toBeUndefined();
    const good = mails
      .slice(0, 30)
      .map((_, i) => i)
      .filter((i) => !bad.has(i));
    expect(r.rows.map((x) => x.id)).toEqual(good.map((i) => `mail-${i}`));
    expect(r.rows.map((x) => x.text)).toEqual(good.map((i) => mails[i]!.text));
    expect(Object.fromEntries(r.ctx.stats.dropReasons)).toEqual({
      'malformed JSON': 1,
      'invalid UTF-8': 1,
      'no text field': 1,
    });
    expect(r.log.slice(0, 3).map((l) => /line (\d+)/.exec(l)?.[1])).toEqual(['6', '13', '21']);
    expect(r.log.every((l) => l.includes(file))).toBe(true);

    const rejected = readFileSync(rejects, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rejected.map((x) => [x.reason, x.line, x.file])).toEqual([...bad].map(([i, [why]]) => [why, i + 1, file]));
    const lineStart = (i: number) => content.slice(0, i).reduce((n, l) => n + l.length + 1, 0);
    expect(rejected[1]!.offset).toBe(lineStart(12) + 40); // the byte where the invalid sequence starts
    expect(rejected[0]!.record).toBe(bad.get(5)![1].toString());

    const fail = await drain(readJsonl, { paths: [file], ...config, onError: 'fail' });
    expect(fail.error).toBeInstanceOf(FlowError);
    expect((fail.error as FlowError).location).toMatchObject({ file, line: 6 });
    expect(fail.error!.message).toMatch(/malformed JSON/);
    expect(fail.rows.map((x) => x.id)).toEqual(['mail-0', 'mail-1', 'mail-2', 'mail-3', 'mail-4']);
  });

  it('runs in a pipeline: drop counts reach the run result, the output has every good line', async () => {
    const file = join(dir, 'pipe.jsonl');
    writeFileSync(
      file,
      [...mails.slice(0, 10).map(line), '{"oops"', ...mails.slice(10, 20).map((m, i) => line(m, i + 10))].join('\n'),
    );
    const out = join(dir, 'out', 'docs.jsonl');
    const r = await runPipeline(
      {
        steps: [
          { id: 'read', op: 'ingest/read-jsonl', config: { paths: [file], ...config } },
          { id: 'write', op: writeJsonl, config: { path: out } },
        ],
      },
      { log: () => undefined },
    );
    expect(r.ok).toBe(true);
    expect(r.nodes.read!.dropReasons).toEqual({ 'malformed JSON': 1 });
    expect(
      readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: string }).id),
    ).toEqual(mails.slice(0, 20).map((_, i) => `mail-${i}`));
  });
});
