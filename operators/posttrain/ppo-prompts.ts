// The head of the PPO chain: each iteration's prompts (batchSize of them; ppo-prompt-list.ts), in order from the
// run's data cursor (its checkpoint's when resumed: exact resume), cycling when the list is used up;
// tokenized with the policy's encoding, an empty prompt as end-of-text, a long one keeping its last
// tokens so prompt + response fits the context. It opens the run (posttrain/ppo). Its credits allow one
// iteration in flight: iteration k's prompts leave only when iteration k - 1 has reached the end of
// the graph (updated, checkpointed, logged). Data parallel: every rank runs it and emits its share of
// each iteration's prompts (rank r of W: rows [r B/W, (r + 1) B/W) of the iteration's B); the cursor
// stays the global one.
import { Field, Schema, Utf8, type Int32, type List } from 'apache-arrow';
import { getEncoding } from 'js-tiktoken';
import { z } from 'zod';
import { defineSource } from '../../src/core/operator.ts';
import { tiktokenName } from '../../src/nn/checkpoint/load-model.ts';
import { withMeta } from '../../src/nn/train/step-batches.ts';
import { batchFromColumns } from '../../src/schema/index.ts';
import { intList } from './ppo-columns.ts';
import { PPO_KEY, ppoField, ppoRunOf, type PpoMeta } from './ppo-field.ts';
import { oneSource, promptList, promptSourceFields } from './ppo-prompt-list.ts';
import { loadRewardModel } from './reward-model-file.ts';

export type PpoPrompt = { prompt: Utf8; prompt_ids: List<Int32> };

export const ppoPromptSchema = () =>
  new Schema<PpoPrompt>([new Field('prompt', new Utf8(), false), new Field('prompt_ids', intList(), false)]);

const Config = z
  .object({ ppo: ppoField, ...promptSourceFields })
  .refine(oneSource, { message: 'give exactly one of prompts (a list), file or dir', path: ['prompts'] });

export const ppoPrompts = defineSource({
  id: 'posttrain/ppo-prompts',
  description:
    "each PPO iteration's prompts from a list, file or shard directory, in order from the run's data cursor (exact " +
    'resume); opens the posttrain/ppo run; each rank emits its share of an iteration',
  config: Config,
  placement: 'replica',
  credits: { maxInFlight: 1 },
  output: () => ppoPromptSchema(),
  make: async function* (cfg, ctx) {
    const run = await ppoRunOf(ctx, cfg.ppo);
    const state = await run.open(loadRewardModel);
    const list = await promptList(cfg, ctx.nodeId);
    const enc = getEncoding(tiktokenName(state.encoding));
    const eot = enc.encode('<|endoftext|>', 'all')[0]!;
    const room = state.policy.config.contextLength + 1 - state.cfg.maxTokens;
    if (room < 1)
      throw new Error(
        `${ctx.nodeId}: maxTokens ${state.cfg.maxTokens} leaves no room for a prompt in the context of ` +
          `${state.policy.config.contextLength}`,
      );
    const ids = list.map((p) => (p === '' ? [eot] : enc.encode(p, [], [])).slice(-room));
    const schema = ppoPromptSchema();
    const n = state.cfg.batchSize;
    const share = state.share;
    let cursor = state.cursor;
    if (state.dist.rank === 0)
      ctx.log(
        `${list.length} prompts, ${n} per iteration${state.dist.worldSize > 1 ? ` (${share.count} on each of ${state.dist.worldSize} ranks)` : ''}, from prompt ${cursor}`,
      );
    for (let it = state.iteration + 1; it <= state.cfg.iterations; it++) {
      // a turn of the event loop per iteration: a stop request is seen before the next one starts
      await new Promise((res) => setImmediate(res));
      if (state.finished || ctx.signal.aborted) return;
      const pick = Array.from({ length: share.count }, (_, i) => (cursor + share.start + i) % list.length);
      cursor += n;
      const batch = batchFromColumns(schema, {
        prompt: pick.map((i) => list[i]!),
        prompt_ids: pick.map((i) => Int32Array.from(ids[i]!)),
      });
      yield withMeta(batch, { [PPO_KEY]: { iteration: it, cursor } satisfies PpoMeta });
    }
  },
});
