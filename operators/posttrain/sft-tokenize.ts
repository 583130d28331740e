// Supervised fine-tuning records to tokens: each record's prompt and response go through the template
// (sft-template.ts), are tokenized separately (as ordinary text, so a record cannot forge special
// tokens) and joined, EOS after the response; `loss_mask` says token for token which are targets:
// 0 for the prompt's tokens, 1 for the response's and its EOS. A pure batch kernel (`workers: N` runs
// it on the worker pool); id and source pass through.
import { isMainThread } from 'node:worker_threads';
import { makeData, makeVector, Uint8, type Schema, type Vector } from 'apache-arrow';
import { z } from 'zod';
import type { RowSpec } from '../../src/core/row-kernel.ts';
import { defineRowOperator, rowRejectsConfig } from '../../src/core/row-operator.ts';
import { sharedInt32 } from '../../src/runtime/shared-memory.ts';
import { ENCODINGS, specialTokenId } from '../tokenize/engine/encodings.ts';
import { createEngine } from '../tokenize/engine/engines.ts';
import { IdBuffer } from '../tokenize/engine/id-buffer.ts';
import { tokensField, tokensVector } from '../tokenize/tokens-column.ts';
import { lossMaskType, sftTextSchema, sftTokensSchema, type SftTokens } from './sft-data.ts';
import { renderSft, sftTemplateSchema } from './sft-template.ts';

const Config = z.object({
  template: sftTemplateSchema.prefault({}).describe('how prompt and response become the texts tokenized'),
  encoding: z.enum(ENCODINGS).default('gpt2').describe("tiktoken encoding of the ids (the model's)"),
  keepText: z.boolean().default(false).describe('keep the prompt and response columns next to the tokens'),
  ...rowRejectsConfig,
});
type Cfg = z.output<typeof Config>;

/** A List<Uint8> column with the same row offsets as the tokens column. */
function maskVector(mask: Uint8Array, offsets: Int32Array): Vector {
  const child = makeData({ type: new Uint8(), length: mask.length, nullCount: 0, data: mask });
  const valueOffsets = offsets.slice();
  return makeVector(makeData({ type: lossMaskType(), length: offsets.length - 1, nullCount: 0, valueOffsets, child }));
}

type Columns = { tokens: ReturnType<typeof tokensField>['type']; loss_mask: ReturnType<typeof lossMaskType> };

function rows(cfg: Cfg): RowSpec<Columns> {
  const engine = createEngine('flowlm', cfg.encoding);
  const eos = cfg.template.eos ? specialTokenId(cfg.encoding, '<|endoftext|>') : -1;
  return {
    column: null,
    read: 'none',
    nulls: 'row',
    missing: 'sft-tokenize reads prompt and response columns',
    columns: { tokens: tokensField().type, loss_mask: lossMaskType() },
    removes: cfg.keepText ? ['tokens', 'loss_mask'] : ['prompt', 'response', 'tokens', 'loss_mask'],
    rejects: cfg.rejects,
    batch: (input, t) => {
      const prompts = input.getChild('prompt');
      const responses = input.getChild('response');
      if (!prompts || !responses)
        throw new Error(
          `sft-tokenize: the input has no ${prompts ? 'response' : 'prompt'} column (columns: ${input.schema.names.join(', ')}); read prompt/response records (ingest/read-sft-jsonl, ingest/read-parquet, posttrain/spam-sft)`,
        );
      const n = input.numRows;
      const ids = new IdBuffer(256 * n + 64, isMainThread ? undefined : sharedInt32);
      const offsets = new Int32Array(n + 1);
      // where each kept row's response starts: the mask is 1 from there to the row's end
      const responseAt = new Int32Array(n);
      let kept = 0;
      return {
        row: (_: undefined, r: number) => {
          const p = prompts.get(r) as string | null;
          const s = responses.get(r) as string | null;
          if (p === null) return 'null prompt';
          if (s === null) return 'null response';
          const text = renderSft(cfg.template, p, s);
          const start = ids.length;
          engine.encode(text.prompt, ids);
          const at = ids.length;
          engine.encode(text.response, ids);
          if (eos >= 0) ids.push(eos);
          if (ids.length === at) {
            ids.length = start;
            return 'empty response (no token to learn)';
          }
          responseAt[kept] = at;
          offsets[++kept] = ids.length;
          return true;
        },
        finish: (k) => {
          const all = ids.view();
          const mask = new Uint8Array(all.length);
          for (let i = 0; i < k; i++) mask.fill(1, responseAt[i]!, offsets[i + 1]!);
          t.count('tokens', all.length);
          t.count(
            'target tokens',
            mask.reduce((a, b) => a + b, 0),
          );
          const o = offsets.subarray(0, k + 1);
          return { tokens: tokensVector(all, o), loss_mask: maskVector(mask, o) };
        },
      };
    },
  };
}

export const sftTokenize = defineRowOperator({
  id: 'posttrain/sft-tokenize',
  description:
    'prompt/response records through a template to tokens (prompt, response, EOS) and a loss_mask: 1 on the ' +
    'response tokens only',
  module: import.meta.url,
  config: Config,
  input: sftTextSchema,
  passthrough: true,
  output: (): Schema<SftTokens> => sftTokensSchema(),
  removes: (cfg) => (cfg.keepText ? [] : ['prompt', 'response']),
  rows,
});
