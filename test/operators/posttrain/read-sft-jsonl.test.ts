// ingest/read-sft-jsonl: prompt/response records from JSON Lines (plain and .gz), configurable nested
// fields, ids from a field or a hash of file and line, and bad lines (malformed JSON, a missing or
// non-string field) counted with file and line and written to rejects, or fatal under onError: fail.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { readSftJsonl } from '../../../operators/ingest/read-sft-jsonl.ts';
import { cleanup, drain, emails, tmp } from '../ingest/helpers.ts';

const dir = tmp('read-sft-jsonl');
afterAll(() => cleanup(dir));

const mails = emails(20, 'hard-ham-1').map((m) => {
  const [head, ...body] = m.text.split('\n\n');
  return { subject: /^Subject: (.*)$/m.exec(head!)?.[1] ?? '', body: body.join('\n\n').slice(0, 200) };
});

describe('ingest/read-sft-jsonl', () => {
  it('maps configured nested fields to prompt and response, plain and .gz, with ids and source', async () => {
    const file = join(dir, 'mails.jsonl');
    const lines = mails.map((m, i) => JSON.stringify({ key: i, q: { text: m.subject }, a: m.body }));
    writeFileSync(file, `${lines.join('\n')}\n\n`);
    writeFileSync(`${file}.gz`, gzipSync(readFileSync(file)));
    const config = { promptField: 'q.text', responseField: 'a', idField: 'key', source: 'ham', batchRows: 8 };
    const r = await drain(readSftJsonl, { paths: [file], ...config });
    expect(r.error).toBeUndefined();
    expect(r.rows).toEqual(
      mails.map((m, i) => ({ id: String(i), prompt: m.subject, response: m.body, source: 'ham' })),
    );
    expect(r.batches.map((b) => b.numRows)).toEqual([8, 8, 4]);
    const gz = await drain(readSftJsonl, { paths: [`${file}.gz`], ...config });
    expect(gz.rows).toEqual(r.rows);
  });

  it('default fields prompt/response/id; without an id the id is a stable hash of file and line', async () => {
    const file = join(dir, 'plain.jsonl');
    writeFileSync(
      file,
      `${JSON.stringify({ prompt: 'p1', response: 'r1' })}\n${JSON.stringify({ prompt: 'p2', response: 'r2', id: 'x' })}\n`,
    );
    const a = await drain(readSftJsonl, { paths: [file] });
    const b = await drain(readSftJsonl, { paths: [file] });
    expect(a.rows.map((x) => [x.prompt, x.response, x.source])).toEqual([
      ['p1', 'r1', 'sft-jsonl'],
      ['p2', 'r2', 'sft-jsonl'],
    ]);
    expect(a.rows[1]!.id).toBe('x');
    expect(a.rows[0]!.id).toMatch(/^[0-9a-f]{8,}$/);
    expect(b.rows[0]!.id).toBe(a.rows[0]!.id);
  });

  it('bad lines are counted with their line and written to rejects; onError fail stops the run', async () => {
    const file = join(dir, 'bad.jsonl');
    const rejects = join(dir, 'rejects.jsonl');
    writeFileSync(
      file,
      [
        '{"prompt":"a","response":"b"}',
        '{"prompt":"a"',
        '{"prompt":"a","response":3}',
        '{"response":"b"}',
        '{"prompt":"c","response":"d"}',
      ].join('\n'),
    );
    const r = await drain(readSftJsonl, { paths: [file], rejects });
    expect(r.rows.map((x) => x.prompt)).toEqual(['a', 'c']);
    expect(Object.fromEntries(r.ctx.stats.dropReasons)).toEqual({ 'malformed JSON': 1, 'no prompt or response': 2 });
    const rej = readFileSync(rejects, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; detail: string });
    expect(rej.map((x) => x.line)).toEqual([2, 3, 4]);
    expect(rej[1]!.detail).toBe(
      'field "response" is a number, not a string; set responseField to the field holding it',
    );
    expect(rej[2]!.detail).toBe('field "prompt" is missing; set promptField to the field holding it');
    const f = await drain(readSftJsonl, { paths: [file], onError: 'fail' });
    expect(f.error?.message).toMatch(/malformed JSON/);
    expect(f.rows.map((x) => x.prompt)).toEqual(['a']);
  });
});
