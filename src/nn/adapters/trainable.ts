// Which parameters a run trains. With no adapter configured every parameter is trainable (full training).
// With any adapter (LoRA, prefix, P-tuning, heads) the base model is frozen and only specs marked
// `adapter` train, unless an adapter's config says `freezeBase: false` (then everything trains).
import type { ParamSpec } from '../model/params.ts';

/** The adapter fields of a model config, structurally: each adapter config may unfreeze the base. */
export interface AdapterFields {
  lora?: { freezeBase?: boolean } | undefined;
  prefix?: { freezeBase?: boolean } | undefined;
  ptuning?: { freezeBase?: boolean } | undefined;
}

const adapterKeys = ['lora', 'prefix', 'ptuning'] as const;

/** True when the config names an adapter that keeps the base frozen. */
export function baseFrozen(cfg: AdapterFields, specs: readonly ParamSpec[] = []): boolean {
  const configured = adapterKeys.map((k) => cfg[k]).filter((a) => a !== undefined);
  // a value head is a spec without a config field of its own: it freezes the base too. A reward head
  // does not: a reward model trains whole (TRL's RewardTrainer), or with LoRA the adapters and the head
  const heads = specs.some((s) => s.adapter === 'value_head');
  if (configured.length === 0 && !heads) return false;
  return !configured.some((a) => a.freezeBase === false);
}

/** The specs a run computes gradients, optimizer state and all-reduce buckets for, in `specs` order. */
export function trainableSpecs(specs: readonly ParamSpec[], cfg: AdapterFields): ParamSpec[] {
  if (!baseFrozen(cfg, specs)) return [...specs];
  return specs.filter((s) => s.adapter !== undefined);
}

/** Parameter count of `specs` (the trainable count when given `trainableSpecs`). */
export function paramCount(specs: readonly ParamSpec[]): number {
  let n = 0;
  for (const s of specs) n += s.shape.reduce((a, b) => a * b, 1);
  return n;
}
