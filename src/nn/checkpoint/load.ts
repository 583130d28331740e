// loadCheckpoint: reads a step directory (or the latest of a run directory), checks every file against
// the sha256 state.json records before decoding it, and returns what saveCheckpoint was given, with
// float32 values identical bit for bit.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { findLatest } from './latest.ts';
import { OPTIMIZER_FILE, PARAMS_FILE, STATE_FILE } from './layout.ts';
import { StateFile, type FileEntry } from './state-file.ts';
import { readTensorTable } from './tensor-table.ts';
import type { JsonValue, LoadedCheckpoint, NamedTensor, NamedTensors, OptimizerState } from './types.ts';

/** The checkpoint directory `path` names: itself when it holds state.json, else its run's latest. */
export async function resolveCheckpointDir(path: string): Promise<string> {
  const abs = resolve(path);
  if (existsSync(join(abs, STATE_FILE))) return abs;
  if (!existsSync(abs)) throw new Error(`loadCheckpoint: ${abs} does not exist`);
  const latest = await findLatest(abs);
  if (!latest)
    throw new Error(
      `loadCheckpoint: ${abs} holds no checkpoint (a step-NNNNNN directory with ${STATE_FILE}); pass a checkpoint ` +
        `directory or a run directory that has one`,
    );
  return latest.dir;
}

async function readState(dir: string): Promise<StateFile> {
  const path = join(dir, STATE_FILE);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(
      `loadCheckpoint: ${path} is not readable JSON (${err instanceof Error ? err.message : String(err)})`,
      { cause: err },
    );
  }
  const r = StateFile.safeParse(json);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`loadCheckpoint: ${path} is not a flowlm checkpoint state (version 1): ${issues}`);
  }
  return r.data;
}

/** The file's bytes, after checking them against the size and sha256 state.json records. */
async function verifiedBytes(dir: string, file: string, entry: FileEntry | undefined): Promise<Uint8Array> {
  const path = join(dir, file);
  if (!entry)
    throw new Error(
      `loadCheckpoint: ${join(dir, STATE_FILE)} records no checksum for ${file}; the checkpoint is incomplete`,
    );
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new Error(
      `loadCheckpoint: ${path} is missing or unreadable (${(err as NodeJS.ErrnoException).code ?? String(err)}); ` +
        `use an earlier checkpoint`,
      { cause: err },
    );
  }
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== entry.sha256 || bytes.length !== entry.bytes)
    throw new Error(
      `loadCheckpoint: checksum mismatch in ${path}: sha256 ${sha} (${bytes.length} bytes), state.json records ` +
        `${entry.sha256} (${entry.bytes} bytes). ` +
        'The file is corrupt or was changed after it was written; use an earlier checkpoint of the run.',
    );
  return bytes;
}

export async function loadCheckpoint(dirOrRunDir: string): Promise<LoadedCheckpoint> {
  const dir = await resolveCheckpointDir(dirOrRunDir);
  const state = await readState(dir);

  const paramRows = readTensorTable(
    await verifiedBytes(dir, PARAMS_FILE, state.files[PARAMS_FILE]),
    join(dir, PARAMS_FILE),
  );
  const params: NamedTensors = new Map(paramRows);
  if (params.size !== paramRows.length)
    throw new Error(`loadCheckpoint: ${join(dir, PARAMS_FILE)} names a tensor twice`);

  const optimizerPath = join(dir, OPTIMIZER_FILE);
  const slots = new Map<string, NamedTensors>(state.optimizer.slots.map((s) => [s, new Map<string, NamedTensor>()]));
  for (const [row, t] of readTensorTable(
    await verifiedBytes(dir, OPTIMIZER_FILE, state.files[OPTIMIZER_FILE]),
    optimizerPath,
  )) {
    const cut = row.indexOf('/');
    const slot = cut > 0 ? slots.get(row.slice(0, cut)) : undefined;
    if (!slot)
      throw new Error(
        `loadCheckpoint: ${optimizerPath} has row "${row}", not <slot>/<tensor> with a slot of ${state.optimizer.slots.join(', ')}`,
      );
    slot.set(row.slice(cut + 1), t);
  }
  const m = slots.get('m'),
    v = slots.get('v');
  if (!m || !v)
    throw new Error(
      `loadCheckpoint: ${join(dir, STATE_FILE)} lists optimizer slots ${state.optimizer.slots.join(', ')}; m and v are required`,
    );
  const optimizer: OptimizerState = {
    ...(state.optimizer.scalars as Record<string, JsonValue>),
    ...Object.fromEntries(slots),
    m,
    v,
  };

  const { rng, dataCursor, configHash, config, extra } = state;
  return {
    dir,
    step: state.step,
    params,
    optimizer,
    state: { rng, dataCursor, configHash, config, ...(extra === undefined ? {} : { extra }) },
  };
}
