// saveCheckpoint: one directory per step, written under a temporary name and renamed into place when
// every file in it is written and synced, so a crash leaves either no new checkpoint or a complete one.
// Only then is latest.json moved to it and are older checkpoints beyond `keepLast` deleted.
import { withCurrentRun } from '../../runs/current-run.ts';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { syncDir, writeDurable } from './durable.ts';
import { cleanStale, pruneCheckpoints, writeLatest } from './latest.ts';
import { OPTIMIZER_FILE, PARAMS_FILE, replacedDirName, STATE_FILE, stepDirName, tempDirName } from './layout.ts';
import { FORMAT, stateJson, VERSION, type FileEntry } from './state-file.ts';
import { checkTensor, writeTensorTable } from './tensor-table.ts';
import type {
  Checkpoint,
  JsonValue,
  NamedTensor,
  NamedTensors,
  OptimizerState,
  SavedCheckpoint,
  SaveOptions,
} from './types.ts';

/** The optimizer's tensor slots and its other (JSON) entries, apart. */
export function splitOptimizer(optimizer: OptimizerState): {
  slots: [string, NamedTensors][];
  scalars: Record<string, JsonValue>;
} {
  const slots: [string, NamedTensors][] = [];
  const scalars: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(optimizer)) {
    if (value instanceof Map) {
      if (key.includes('/') || key === '')
        throw new RangeError(
          `saveCheckpoint: optimizer slot name "${key}" must be non-empty and contain no '/' (rows are named ` +
            `<slot>/<tensor>)`,
        );
      slots.push([key, value]);
    } else scalars[key] = value;
  }
  return { slots, scalars };
}

function* slotRows(slots: [string, NamedTensors][]): Generator<[string, NamedTensor]> {
  for (const [slot, tensors] of slots) for (const [name, t] of tensors) yield [`${slot}/${name}`, t];
}

function validate(ck: Checkpoint, slots: [string, NamedTensors][], keepLast: number): void {
  if (!Number.isSafeInteger(ck.step) || ck.step < 0)
    throw new RangeError(`saveCheckpoint: step must be a non-negative integer, got ${ck.step}`);
  if (!Number.isInteger(keepLast) || keepLast < 1)
    throw new RangeError(`saveCheckpoint: keepLast must be an integer >= 1, got ${keepLast}`);
  if (typeof ck.state.configHash !== 'string') throw new TypeError('saveCheckpoint: state.configHash must be a string');
  for (const [name, t] of ck.params) checkTensor(name, t, 'saveCheckpoint params');
  for (const [slot, tensors] of slots)
    for (const [name, t] of tensors) checkTensor(name, t, `saveCheckpoint optimizer.${slot}`);
}

export async function saveCheckpoint(runDir: string, ck: Checkpoint, opts: SaveOptions = {}): Promise<SavedCheckpoint> {
  const keepLast = opts.keepLast ?? 3;
  const paramsDtype = opts.paramsDtype ?? 'f32';
  if (paramsDtype !== 'f32' && paramsDtype !== 'bf16' && paramsDtype !== 'f16')
    throw new RangeError(`saveCheckpoint: paramsDtype must be f32, bf16 or f16, got ${String(paramsDtype)}`);
  const { slots, scalars } = splitOptimizer(ck.optimizer);
  validate(ck, slots, keepLast);
  const { rng, dataCursor, configHash, config, extra } = ck.state;
  const state = (files: Record<string, FileEntry>) =>
    stateJson({
      format: FORMAT,
      version: VERSION,
      step: ck.step,
      configHash,
      config: config ?? null,
      rng: rng ?? null,
      dataCursor: dataCursor ?? null,
      ...(extra === undefined ? {} : { extra }),
      optimizer: { slots: slots.map(([s]) => s), scalars },
      files,
    });
  state({}); // what JSON cannot hold is refused before any tensor is written
  const root = resolve(runDir);
  await mkdir(root, { recursive: true });
  await cleanStale(root);

  const tmp = join(root, tempDirName(ck.step));
  const final = join(root, stepDirName(ck.step));
  let replaced: string | undefined;
  await mkdir(tmp);
  try {
    const files: Record<string, FileEntry> = {
      [PARAMS_FILE]: await writeTensorTable(join(tmp, PARAMS_FILE), ck.params, paramsDtype),
      [OPTIMIZER_FILE]: await writeTensorTable(join(tmp, OPTIMIZER_FILE), slotRows(slots)),
    };
    await writeDurable(join(tmp, STATE_FILE), state(files));
    await syncDir(tmp);
    // a checkpoint of the same step (a rerun after resume) is set aside, not deleted, until the new
    // one is in place: a crash in between lets cleanStale put it back
    if (existsSync(final)) {
      replaced = join(root, replacedDirName(ck.step));
      await rename(final, replaced);
    }
    await rename(tmp, final);
    await syncDir(root);
    if (replaced) {
      await rm(replaced, { recursive: true, force: true });
      replaced = undefined;
    }
    await writeLatest(root, ck.step);
    const removed = await pruneCheckpoints(root, ck.step, keepLast);
    withCurrentRun((r) => {
      r.logArtifact(final, 'checkpoint');
      for (const dir of removed) r.forgetArtifact(dir);
    });
    return {
      step: ck.step,
      dir: final,
      sha256: Object.fromEntries(Object.entries(files).map(([f, e]) => [f, e.sha256])),
      removed,
    };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    if (replaced && !existsSync(final)) await rename(replaced, final).catch(() => undefined);
    throw err;
  }
}
