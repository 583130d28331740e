// The plain data a checkpoint holds, independent of tfjs: the model and optimizer code converts its
// tensors to and from these maps, so storage never depends on a backend.

/** One tensor: row-major float32 values and their shape (product of shape = values.length). */
export interface NamedTensor {
  shape: number[];
  values: Float32Array;
}

/** Tensors by name, in insertion order (the order they are stored in). A Map rather than a Record:
 * names such as `h.0.attn.c_attn.weight` are data, and the order is kept exactly. */
export type NamedTensors = Map<string, NamedTensor>;

/** A JSON value as state.json stores it (numbers must be finite: JSON has no NaN or Infinity). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Optimizer state: every Map-valued entry is a tensor slot (AdamW's first and second moments `m`
 * and `v`, or more for other optimizers), stored in optimizer.arrow; every other entry is a JSON
 * scalar (step count, betas...), stored in state.json. Slot names may not contain '/'. */
export interface OptimizerState {
  m: NamedTensors;
  v: NamedTensors;
  [key: string]: NamedTensors | JsonValue;
}

/** Everything besides tensors a run needs to continue exactly where it stopped. The unknown fields
 * must be JSON-serialisable (they are written to state.json and read back with JSON.parse; NaN,
 * Infinity, bigints and typed arrays are refused; an undefined rng, dataCursor or config reads back
 * as null). */
export interface TrainingState {
  /** the generator's saved state (e.g. `Rng.save()`) */
  rng: unknown;
  /** the streaming dataset's position (its resumable cursor) */
  dataCursor: unknown;
  /** hash of the config that shapes the run: resuming under another config is refused by callers */
  configHash: string;
  config: unknown;
  extra?: unknown;
}

export interface Checkpoint {
  step: number;
  params: NamedTensors;
  optimizer: OptimizerState;
  state: TrainingState;
}

/** A checkpoint as loaded, with the directory it came from. */
export interface LoadedCheckpoint extends Checkpoint {
  dir: string;
}

/** How tensor values are stored: float32, or rounded to bfloat16 / float16 (read back as float32). */
export type StorageDtype = 'f32' | 'bf16' | 'f16';

export interface SaveOptions {
  /** how many complete checkpoints to keep, the new one included (default 3) */
  keepLast?: number;
  /** how params.arrow stores the parameters (default f32, exact). bf16 / f16 halve the file; the
   * optimizer's tensors (AdamW's moments) stay float32 whatever this says: v (squared gradients,
   * often below 1e-10) would flush to zero in f16 and keep only 8 significant bits in bf16 */
  paramsDtype?: StorageDtype;
}

export interface SavedCheckpoint {
  step: number;
  /** the step directory, e.g. <runDir>/step-000120 */
  dir: string;
  /** sha256 of each file, as state.json records them */
  sha256: Record<string, string>;
  /** step directories removed because they were older than the last `keepLast` */
  removed: string[];
}
