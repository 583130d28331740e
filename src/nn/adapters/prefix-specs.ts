// Prefix tuning's settings and parameter shapes (prefix.ts has the forward pass): plain TypeScript
// without tfjs, so the parameter list (params.ts) and the plans and budgets built from it load no
// tensor library.
import type { GptConfig } from '../model/config.ts';
import type { ParamSpec } from '../model/params.ts';

export interface PrefixSettings {
  numVirtualTokens: number;
  projection: boolean;
  hidden: number;
  init: 'random' | 'zero';
  /** which config field asked for it: `prefix`, or `ptuning` with version v2 */
  adapter: 'prefix' | 'ptuning';
}

/** The prefix the config asks for: `prefix`, or P-tuning v2 (deep prompts: a prefix without projection). */
export function prefixSettings(cfg: GptConfig): PrefixSettings | undefined {
  const p = cfg.prefix;
  if (p)
    return {
      numVirtualTokens: p.numVirtualTokens,
      projection: p.projection,
      hidden: p.encoderHiddenSize ?? cfg.dModel,
      init: p.init,
      adapter: 'prefix',
    };
  const v2 = cfg.ptuning?.version === 'v2' ? cfg.ptuning : undefined;
  if (v2)
    return {
      numVirtualTokens: v2.numVirtualTokens,
      projection: false,
      hidden: cfg.dModel,
      init: 'random',
      adapter: 'ptuning',
    };
  return undefined;
}

/** Prefix length in key positions (0 without a prefix). */
export const prefixLength = (cfg: GptConfig): number => prefixSettings(cfg)?.numVirtualTokens ?? 0;

export const E = 'prefix_encoder.embedding.weight';
export const T0 = 'prefix_encoder.transform.0';
export const T2 = 'prefix_encoder.transform.2';

/** The prefix parameters, appended after the base model's (params.ts). Inits are torch's defaults, as PEFT. */
export function prefixSpecs(cfg: GptConfig): ParamSpec[] {
  const s = prefixSettings(cfg);
  if (!s) return [];
  const n = s.numVirtualTokens;
  const d = cfg.dModel;
  const out = cfg.nLayer * 2 * d;
  const adapter = s.adapter;
  const zero = s.init === 'zero';
  if (!s.projection)
    return [{ name: E, shape: [n, out], kind: 'embedding', init: zero ? 'zeros' : { normal: 1 }, adapter }];
  const u0 = 1 / Math.sqrt(d);
  const u2 = 1 / Math.sqrt(s.hidden);
  return [
    { name: E, shape: [n, d], kind: 'embedding', init: { normal: 1 }, adapter },
    { name: `${T0}.weight`, shape: [d, s.hidden], kind: 'weight', init: { uniform: u0 }, adapter },
    { name: `${T0}.bias`, shape: [s.hidden], kind: 'bias', init: { uniform: u0 }, adapter },
    { name: `${T2}.weight`, shape: [s.hidden, out], kind: 'weight', init: zero ? 'zeros' : { uniform: u2 }, adapter },
    { name: `${T2}.bias`, shape: [out], kind: 'bias', init: zero ? 'zeros' : { uniform: u2 }, adapter },
  ];
}
