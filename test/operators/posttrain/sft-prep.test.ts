// pipelines/sft-prep.ts end to end: prompt/response JSON Lines and the same records as Parquet become
// the same shards, which the trainer's data path (shardTrainData) reads back as rows holding whole
// examples: each example's ids are its template-rendered prompt, response and EOS (js-tiktoken), and
// the targets are exactly the response tokens and EOS.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { from, lastValueFrom } from 'rxjs';
import { getEncoding } from 'js-tiktoken';
import { afterAll, describe, expect, it } from 'vitest';
import { writeParquet } from '../../../operators/io/write-parquet.ts';
import { sftRecordSchema } from '../../../operators/posttrain/sft-data.ts';
import { shardTrainData } from '../../../operators/train/shard-data.ts';
import { sftPrepSpec } from '../../../pipelines/sft-prep.ts';
import type { PackedBatch } from '../../../src/nn/objective/loss.ts';
import { trainConfig } from '../../../src/nn/train/train-config.ts';
import { runPipeline } from '../../../src/runtime/run.ts';
import { batchFromColumns } from '../../../src/schema/index.ts';
import { cleanup, emails, tmp } from '../ingest/helpers.ts';

const dir = tmp('sft-prep');
afterAll(() => cleanup(dir));

const recs = emails(30, 'easy-ham-1').map((m, i) => {
  const [head, ...body] = m.text.split('\n\n');
  const subject = /^Subject: (.*)$/m.exec(head!)?.[1] ?? '';
  return {
    id: `m${i}`,
    prompt: subject,
    response: body
      .join(' ')
      .replace(/\s+/g, ' ')
      .slice(0, 30 + 5 * i),
  };
});
const template = { prompt: 'Subject: {prompt}\n' };
const seqLen = 64;

async function rowsOf(shards: string): Promise<PackedBatch[]> {
  const cfg = trainConfig({
    runDir: join(dir, 'run'),
    encoding: 'gpt2',
    model: { vocabSize: 50257, contextLength: seqLen, nLayer: 1, nHead: 1, dModel: 8, docMasking: true },
    data: { train: shards, holdoutRows: 0, shuffle: false },
    batchSize: 1,
    steps: 1,
  });
  const out: PackedBatch[] = [];
  for await (const b of shardTrainData(cfg).trainOnce()) out.push(b);
  return out;
}

describe('pipelines/sft-prep.ts', () => {
  it('JSONL and Parquet records become the same shards; the trainer reads whole examples and their targets', async () => {
    const jsonl = join(dir, 'sft.jsonl');
    writeFileSync(jsonl, recs.map((r) => JSON.stringify(r)).join('\n'));
    const parquet = join(dir, 'sft.parquet');
    const batch = batchFromColumns(sftRecordSchema(), {
      id: recs.map((r) => r.id),
      prompt: recs.map((r) => r.prompt),
      response: recs.map((r) => r.response),
      source: recs.map(() => 'x'),
    });
    await lastValueFrom(from([batch]).pipe(writeParquet({ path: parquet })));
    for (const [inputs, out] of [
      [[jsonl], join(dir, 'from-jsonl')],
      [[parquet], join(dir, 'from-parquet')],
    ] as const) {
      const r = await runPipeline(sftPrepSpec({ inputs: [...inputs], out, seqLen, template, workers: 2 }));
      expect(r.error).toBeUndefined();
    }
    const a = await rowsOf(join(dir, 'from-jsonl'));
    const b = await rowsOf(join(dir, 'from-parquet'));
    expect(b).toEqual(a);

    const enc = getEncoding('gpt2');
    const examples = recs
      .map((r) => ({ p: enc.encode(`Subject: ${r.prompt}\n`), s: [...enc.encode(r.response), 50256] }))
      .filter((e) => e.p.length + e.s.length <= seqLen + 1);
    let next = 0;
    for (const row of a) {
      expect(row.seqLen).toBe(seqLen);
      const starts = Array.from(row.docStarts![0]!);
      for (const s of starts) {
        const e = examples[next++]!;
        expect(Array.from(row.inputIds.subarray(s, s + e.p.length + e.s.length))).toEqual([...e.p, ...e.s]);
        const mask = Array.from(row.attentionMask!.subarray(s, s + e.p.length + e.s.length));
        expect(mask).toEqual([...e.p.map(() => 0), ...e.s.map(() => 1)]);
      }
      const end = starts.length > 0 ? starts.at(-1)! + examples[next - 1]!.p.length + examples[next - 1]!.s.length : 0;
      expect(Array.from(row.attentionMask!.subarray(end)).every((x) => x === 0)).toBe(true);
    }
    expect(next).toBe(examples.length);
    expect(a.length).toBeLessThan(examples.length); // packed: some rows hold several examples
  });
});
