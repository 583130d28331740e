// state.json: what a checkpoint directory holds besides tensors, and the checksums of its tensor
// files. It is written last inside the temporary directory, so a step directory that has it is
// complete. Keys are written in a fixed order and nothing in it is a timestamp: the same checkpoint
// gives the same bytes.
import { z } from 'zod';

export const FORMAT = 'flowlm-checkpoint' as const;
export const VERSION = 1 as const;

const FileEntry = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().min(0),
  tensors: z.number().int().min(0),
});
export type FileEntry = z.infer<typeof FileEntry>;

export const StateFile = z.object({
  format: z.literal(FORMAT),
  version: z.literal(VERSION),
  step: z.number().int().min(0),
  configHash: z.string(),
  config: z.unknown(),
  rng: z.unknown(),
  dataCursor: z.unknown(),
  extra: z.unknown().optional(),
  optimizer: z.object({
    /** tensor slots stored in optimizer.arrow as rows named `<slot>/<tensor>`, in this order */
    slots: z.array(z.string().regex(/^[^/]+$/)),
    /** the optimizer's non-tensor entries */
    scalars: z.record(z.string(), z.unknown()),
  }),
  /** every file of the directory besides state.json, with its checksum */
  files: z.record(z.string(), FileEntry),
});
export type StateFile = z.infer<typeof StateFile>;

/** JSON text for a state file; throws naming the field that JSON cannot hold. */
export function stateJson(state: StateFile): string {
  for (const key of ['config', 'rng', 'dataCursor', 'extra'] as const) checkJson(state[key], key);
  checkJson(state.optimizer.scalars, 'optimizer');
  return `${JSON.stringify(state, null, 2)}\n`;
}

/** JSON.stringify silently turns NaN and Infinity into null and drops functions; refuse them so a
 * checkpoint never reads back different from what was saved. */
function checkJson(value: unknown, path: string): void {
  if (value === undefined) return;
  if (typeof value === 'number' && !Number.isFinite(value))
    throw new TypeError(`checkpoint state: ${path} is ${value}, which JSON cannot hold`);
  if (typeof value === 'bigint' || typeof value === 'function' || typeof value === 'symbol')
    throw new TypeError(
      `checkpoint state: ${path} is a ${typeof value}, which JSON cannot hold (convert it to a number or string)`,
    );
  if (Array.isArray(value)) value.forEach((v, i) => checkJson(v === undefined ? null : v, `${path}[${i}]`));
  else if (value !== null && typeof value === 'object') {
    if (ArrayBuffer.isView(value) || value instanceof Map || value instanceof Set)
      throw new TypeError(
        `checkpoint state: ${path} is a ${value.constructor.name}, which JSON does not round-trip (use a plain ` +
          `array or object)`,
      );
    for (const [k, v] of Object.entries(value)) checkJson(v, `${path}.${k}`);
  }
}
