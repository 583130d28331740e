// Checkpoint store: Arrow IPC tensor tables plus state.json per step directory, written atomically.
export type {
  NamedTensor,
  NamedTensors,
  JsonValue,
  OptimizerState,
  TrainingState,
  Checkpoint,
  LoadedCheckpoint,
  SaveOptions,
  SavedCheckpoint,
  StorageDtype,
} from './types.ts';
export { saveCheckpoint } from './save.ts';
export { loadCheckpoint, resolveCheckpointDir } from './load.ts';
export { findLatest, cleanStale } from './latest.ts';
export { listCheckpoints, stepDirName, STATE_FILE, PARAMS_FILE, OPTIMIZER_FILE, LATEST_FILE } from './layout.ts';
export { tensorTableSchema, readTensorTable, writeTensorTable } from './tensor-table.ts';
export { withShapes, valuesOf } from './convert.ts';
