// P-tuning v1's settings and parameter shapes (ptuning.ts has the prompt encoder's forward pass):
// plain TypeScript without tfjs, so the parameter list (params.ts) and the plans and budgets built
// from it load no tensor library.
import type { GptConfig } from '../model/config.ts';
import type { ParamSpec } from '../model/params.ts';

export const E = 'prompt_encoder.embedding.weight';
export const MLP = 'prompt_encoder.mlp_head';
export const LSTM = 'prompt_encoder.lstm_head';

export interface V1 {
  n: number;
  hidden: number;
  encoder: 'mlp' | 'lstm';
  layers: number;
}

export function v1(cfg: GptConfig): V1 | undefined {
  const c = cfg.ptuning;
  if (!c || c.version !== 'v1') return undefined;
  return {
    n: c.numVirtualTokens,
    hidden: c.encoderHiddenSize ?? cfg.dModel,
    encoder: c.encoder,
    layers: c.encoderNumLayers,
  };
}

/** Virtual tokens P-tuning v1 puts before each row (0 without it). */
export const virtualTokenCount = (cfg: GptConfig): number => v1(cfg)?.n ?? 0;

/** The (forward, reverse) suffixes of torch's LSTM parameter names for layer l. */
export const directions = (l: number) => [`l${l}`, `l${l}_reverse`];

/** P-tuning v1's parameters, appended after the base model's (params.ts). Inits are torch's defaults. */
export function ptuningSpecs(cfg: GptConfig): ParamSpec[] {
  const s = v1(cfg);
  if (!s) return [];
  const d = cfg.dModel;
  const H = s.hidden;
  const adapter = 'ptuning' as const;
  const dense = (name: string, nIn: number, nOut: number): ParamSpec[] => [
    { name: `${name}.weight`, shape: [nIn, nOut], kind: 'weight', init: { uniform: 1 / Math.sqrt(nIn) }, adapter },
    { name: `${name}.bias`, shape: [nOut], kind: 'bias', init: { uniform: 1 / Math.sqrt(nIn) }, adapter },
  ];
  const specs: ParamSpec[] = [{ name: E, shape: [s.n, d], kind: 'embedding', init: { normal: 1 }, adapter }];
  if (s.encoder === 'mlp')
    return [...specs, ...dense(`${MLP}.0`, d, H), ...dense(`${MLP}.2`, H, H), ...dense(`${MLP}.4`, H, d)];
  const u = { uniform: 1 / Math.sqrt(H) };
  for (let l = 0; l < s.layers; l++) {
    for (const dir of directions(l)) {
      specs.push(
        { name: `${LSTM}.weight_ih_${dir}`, shape: [l === 0 ? d : 2 * H, 4 * H], kind: 'weight', init: u, adapter },
        { name: `${LSTM}.weight_hh_${dir}`, shape: [H, 4 * H], kind: 'weight', init: u, adapter },
        { name: `${LSTM}.bias_ih_${dir}`, shape: [4 * H], kind: 'bias', init: u, adapter },
        { name: `${LSTM}.bias_hh_${dir}`, shape: [4 * H], kind: 'bias', init: u, adapter },
      );
    }
  }
  return [...specs, ...dense(`${MLP}.0`, 2 * H, 2 * H), ...dense(`${MLP}.2`, 2 * H, d)];
}
