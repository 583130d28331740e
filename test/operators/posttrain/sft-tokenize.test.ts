// posttrain/sft-tokenize on real e-mail text: the ids are the template's prompt then its response, each
// encoded alone by js-tiktoken (the reference implementation), EOS after; the loss mask is 1 exactly on
// the response's ids and EOS. Every config field changes the output; nulls and empty responses drop.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Utf8, type RecordBatch } from 'apache-arrow';
import { getEncoding } from 'js-tiktoken';
import { afterAll, describe, expect, it } from 'vitest';
import { sftTokenize } from '../../../operators/posttrain/sft-tokenize.ts';
import { OperatorStats } from '../../../src/core/stats.ts';
import { batchFromColumns, dictUtf8, schemaOf } from '../../../src/schema/index.ts';
import { cells, runOp } from '../pack/fixtures.ts';
import { cleanup, emails, tmp } from '../ingest/helpers.ts';

const dir = tmp('sft-tokenize');
afterAll(() => cleanup(dir));

const gpt2 = getEncoding('gpt2');
const mails = emails(6).map((m) => {
  const [head, ...body] = m.text.split('\n\n');
  return { prompt: /^Subject: (.*)$/m.exec(head!)?.[1] ?? '', response: body.join('\n\n').slice(0, 300) };
});

function records(rows: { prompt: string | null; response: string | null }[]): RecordBatch {
  // prompt and response nullable, as a Parquet file's strings may be
  const schema = schemaOf({
    id: { type: new Utf8() },
    prompt: { type: new Utf8(), nullable: true },
    response: { type: new Utf8(), nullable: true },
    source: { type: dictUtf8() },
  });
  return batchFromColumns(schema, {
    id: rows.map((_, i) => `r${i}`),
    prompt: rows.map((r) => r.prompt),
    response: rows.map((r) => r.response),
    source: rows.map(() => 'test'),
  } as never);
}

/** The reference: prompt ids, response ids (+ EOS), mask 0 then 1. */
function expected(prompt: string, response: string, enc = gpt2, eos: number | null = 50256) {
  const p = enc.encode(prompt);
  const r = [...enc.encode(response), ...(eos === null ? [] : [eos])];
  return { tokens: [...p, ...r], mask: [...p.map(() => 0), ...r.map(() => 1)] };
}

const run = async (
  config: Parameters<typeof sftTokenize>[0],
  rows: { prompt: string | null; response: string | null }[] = mails,
  stats = new OperatorStats('t'),
) => {
  const out = await runOp([records(rows)], sftTokenize(config, { stats }));
  return {
    names: out[0]!.schema.names,
    tokens: out.flatMap((b) => cells(b, 'tokens')),
    mask: out.flatMap((b) => cells(b, 'loss_mask')),
    ids: out.flatMap((b) => [...b.getChild('id')!].map(String)),
    out,
    stats,
  };
};

describe('posttrain/sft-tokenize', () => {
  it('Alpaca template by default: prompt ids, response ids, EOS; mask on the response and EOS only', async () => {
    const r = await run({});
    expect(r.names).toEqual(['id', 'source', 'tokens', 'loss_mask']);
    const alpaca = (p: string) =>
      'Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n' +
      `### Instruction:\n${p}\n\n### Response:\n`;
    mails.forEach((m, i) => {
      const e = expected(alpaca(m.prompt), m.response);
      expect(r.tokens[i]).toEqual(e.tokens);
      expect(r.mask[i]).toEqual(e.mask);
    });
    expect(r.ids).toEqual(mails.map((_, i) => `r${i}`));
  });

  it('template fields: prompt, response, system and eos: false', async () => {
    const template = {
      prompt: '{system}Subject: {prompt}\n',
      response: '{response}\n--',
      system: 'EMAIL\n',
      eos: false,
    };
    const r = await run({ template });
    mails.forEach((m, i) => {
      const e = expected(`EMAIL\nSubject: ${m.prompt}\n`, `${m.response}\n--`, gpt2, null);
      expect(r.tokens[i]).toEqual(e.tokens);
      expect(r.mask[i]).toEqual(e.mask);
    });
  });

  it('encoding: cl100k ids and its end-of-text id 100257', async () => {
    const cl = getEncoding('cl100k_base');
    const r = await run({ encoding: 'cl100k', template: { prompt: '{prompt}\n' } });
    mails.forEach((m, i) => expect(r.tokens[i]).toEqual(expected(`${m.prompt}\n`, m.response, cl, 100257).tokens));
  });

  it('keepText keeps the prompt and response columns', async () => {
    const r = await run({ keepText: true });
    expect(r.names).toEqual(['id', 'prompt', 'response', 'source', 'tokens', 'loss_mask']);
    expect(String(r.out[0]!.getChild('response')!.get(0))).toBe(mails[0]!.response);
  });

  it('drops null prompts or responses and empty responses without EOS, counted and written to rejects', async () => {
    const rejects = join(dir, 'rejects.jsonl');
    const rows = [
      mails[0]!,
      { prompt: null, response: 'x' },
      { prompt: 'x', response: null },
      { prompt: 'q', response: '' },
    ];
    const stats = new OperatorStats('t');
    const r = await run({ template: { prompt: '{prompt}', eos: false }, rejects }, rows, stats);
    expect(r.ids).toEqual(['r0']);
    expect(Object.fromEntries(stats.dropReasons)).toEqual({
      'null prompt': 1,
      'null response': 1,
      'empty response (no token to learn)': 1,
    });
    const rejected = readFileSync(rejects, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { reason: string; row: number });
    expect(rejected.map((x) => [x.row, x.reason])).toEqual([
      [1, 'null prompt'],
      [2, 'null response'],
      [3, 'empty response (no token to learn)'],
    ]);
    // with EOS the empty response still has one target: the EOS
    const e = await run({ template: { prompt: '{prompt}' } }, [{ prompt: 'q', response: '' }]);
    expect(e.tokens).toEqual([[...gpt2.encode('q'), 50256]]);
    expect(e.mask).toEqual([[0, 1]]);
  });
});
