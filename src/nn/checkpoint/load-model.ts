// A trained model back from a checkpoint (a step directory or a run directory's latest), with the
// tokenizer name its training config recorded (the trainer stores the config and the resolved GPT
// config in state.json).
import { z } from 'zod';
import { loadCheckpoint } from './index.ts';
import { matchParams } from './match-params.ts';
import { adapterOnlyRef, adapterOnlyValues } from './adapter-only.ts';
import { gptConfig, gptConfigSchema } from '../model/config.ts';
import { Gpt } from '../model/gpt.ts';
import { paramSpecs } from '../model/params.ts';

const Recorded = z.object({ encoding: z.string().default('gpt2'), modelConfig: gptConfigSchema });

export interface LoadedModel {
  model: Gpt;
  encoding: string;
  step: number;
  dir: string;
}

export async function loadModel(checkpoint: string): Promise<LoadedModel> {
  const ck = await loadCheckpoint(checkpoint);
  const r = Recorded.safeParse(ck.state.config);
  if (!r.success)
    throw new Error(
      `${ck.dir}: state.json's config has no usable modelConfig (${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}); was it written by flowlm train?`,
    );
  // every parameter of the recorded model (c_gate with swiglu, lm_head untied), no more, no less; an
  // adapter-only checkpoint holds the adapters, its base comes from where the run got it
  const cfg = gptConfig(r.data.modelConfig);
  const ref = adapterOnlyRef(ck.state);
  const values = ref
    ? await adapterOnlyValues(ck, ref, paramSpecs(cfg), cfg)
    : matchParams(paramSpecs(cfg), ck.params, ck.dir);
  const model = Gpt.create(r.data.modelConfig, { values });
  return { model, encoding: r.data.encoding, step: ck.step, dir: ck.dir };
}

/** js-tiktoken's name for a flowlm encoding name (gpt2, r50k, p50k, cl100k, o200k, or already full). */
export function tiktokenName(encoding: string): 'gpt2' | 'r50k_base' | 'p50k_base' | 'cl100k_base' | 'o200k_base' {
  const map = {
    gpt2: 'gpt2',
    r50k: 'r50k_base',
    p50k: 'p50k_base',
    cl100k: 'cl100k_base',
    o200k: 'o200k_base',
  } as const;
  const full = Object.values(map) as string[];
  if (encoding in map) return map[encoding as keyof typeof map];
  if (full.includes(encoding)) return encoding as ReturnType<typeof tiktokenName>;
  throw new Error(`unknown encoding "${encoding}"; use one of ${Object.keys(map).join(', ')}`);
}
