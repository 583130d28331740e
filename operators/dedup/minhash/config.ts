// Settings the MinHash operators share. The signature operator and the LSH filter must agree on the
// shingling and the permutations, so both take these fields, and the signature column carries them
// (field metadata) for the filter to check.
import { z } from 'zod';
import { chooseBands } from './bands.ts';

export const signatureFields = {
  unit: z.enum(['word', 'char']).default('word').describe('shingle over words or over characters'),
  shingleSize: z.number().int().min(1).max(64).default(5).describe('words (or characters) per shingle'),
  numPerm: z.number().int().min(8).max(1024).default(128).describe('permutations: signature length'),
  seed: z.number().int().min(0).max(0xffffffff).default(1).describe('seed of the permutations'),
};
export const SignatureConfig = z.object(signatureFields);
export type SignatureParams = z.output<typeof SignatureConfig>;

export const lshFields = {
  threshold: z
    .number()
    .gt(0)
    .lt(1)
    .default(0.8)
    .describe('Jaccard similarity at or above which documents are duplicates'),
  bands: z.number().int().min(1).optional().describe('LSH bands (default: chosen for the threshold)'),
  rows: z.number().int().min(1).optional().describe('signature rows per band (default: chosen with bands)'),
  verify: z
    .boolean()
    .default(true)
    .describe(
      'drop only when the Jaccard estimated from the two signatures reaches the threshold; LSH then only proposes ' +
        'candidates',
    ),
  maxDocs: z.number().int().min(1).default(1_000_000).describe('documents the index holds (memory bound; see lsh.ts)'),
  onFull: z
    .enum(['fail', 'evict'])
    .default('fail')
    .describe('at maxDocs: stop with an error, or forget the oldest half'),
};

/** The signature column's metadata key, and its value for given settings. */
export const SIGNATURE_META = 'flowlm.minhash';
export const signatureTag = (p: SignatureParams): string =>
  JSON.stringify({ unit: p.unit, shingleSize: p.shingleSize, numPerm: p.numPerm, seed: p.seed });

export interface Banding {
  bands: number;
  rows: number;
}

const chosen = new Map<string, Banding>();
/** bands x rows from the config, or chosen: for the threshold itself without verification (few false
 * candidates), or, with verification, for 3/4 of it so that nearly every pair at the threshold is
 * proposed and the signature estimate decides. */
export function resolveBanding(cfg: {
  threshold: number;
  bands?: number;
  rows?: number;
  verify: boolean;
  numPerm: number;
}): Banding {
  const { bands, rows, numPerm } = cfg;
  if (bands !== undefined && rows !== undefined) return { bands, rows };
  if (bands !== undefined) return { bands, rows: Math.max(1, Math.floor(numPerm / bands)) };
  if (rows !== undefined) return { bands: Math.max(1, Math.floor(numPerm / rows)), rows };
  const target = cfg.verify ? cfg.threshold * 0.75 : cfg.threshold;
  const key = `${target}:${numPerm}`;
  let b = chosen.get(key);
  if (!b) {
    const c = chooseBands(target, numPerm);
    chosen.set(key, (b = { bands: c.bands, rows: c.rows }));
  }
  return b;
}

/** zod refinement: bands x rows must fit in the signature. */
export const bandsFit = (c: { bands?: number; rows?: number; numPerm: number }) =>
  (c.bands ?? 1) * (c.rows ?? 1) <= c.numPerm;
export const bandsFitMessage = { message: 'bands * rows must be <= numPerm', path: ['bands'] };
