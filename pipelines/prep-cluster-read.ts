// The reader side of a clustered prep's work items: which files the job reads (expanded by the very
// function every reader expands its paths with, so in the same order), how they are cut into items
// (consecutive small files grouped up to a size), and what each document of one
// file weighs against its reader's batchBytes, so the merge can cut the batches one process would have
// cut (shard boundaries depend on them). Weights are known for readers whose batches run across files:
// plain text (one document per file: the whole-file rule) and JSON Lines (each record's line, decided
// by the reader's own parseLine); other readers end their batches with each file, and the item output
// records where (write-item.ts).
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { PipelineSpecInput } from '../src/graph/spec.ts';
import { parseConfig } from '../src/core/operator.ts';
import { expandGlobs } from '../src/runtime/files.ts';
import { readLines } from '../src/runtime/lines.ts';
import { inputKind } from '../operators/ingest/input-kind.ts';
import { readFiles } from '../operators/ingest/read-files.ts';
import { parseLine, readJsonl } from '../operators/ingest/read-jsonl.ts';
import { readText } from '../operators/ingest/read-text.ts';

export type Step = NonNullable<PipelineSpecInput['steps']>[number];

/** The job's input files, in the order its reader reads them. */
export async function itemFiles(read: Step): Promise<string[]> {
  const paths = (read.config as { paths?: string[] } | undefined)?.paths;
  if (!paths?.length) throw new Error(`prep --cluster: the reader step ${read.id} names no input files`);
  return expandGlobs(paths);
}

/** Whether `file`'s documents weigh against the reader's batchBytes (weightsOf gives them): such files
 * may share a work item, since the merge cuts their batches from the weights wherever the item ends.
 * Files of readers whose batches end with each file stay an item each (the item records those cuts). */
function groupable(read: Step, file: string): boolean {
  if (read.op === readText) return textUnit(read) === 'file';
  if (read.op === readJsonl) return true;
  if (read.op !== readFiles) return false;
  const kind = inputKind(file);
  return kind === 'text' || kind === 'jsonl';
}

// a reader step's text unit, parsed once per step: every file of a job asks (thousands, at ~10 us each)
const units = new WeakMap<Step, string>();
function textUnit(read: Step): string {
  let unit = units.get(read);
  if (unit === undefined) {
    const paths = (read.config as { paths?: string[] } | undefined)?.paths;
    unit = parseConfig(readText.def, { ...((read.config ?? {}) as object), paths: paths?.length ? paths : ['-'] }).unit;
    units.set(read, unit);
  }
  return unit;
}

/** Files per item at most: an item's message names them all (NATS's default payload limit is 1 MB). */
export const MAX_ITEM_FILES = 1000;

// A job ends when its last item does, and with items of one size the other workers wait meanwhile for
// half an item on average (2 worker processes here: one idle for 0.37-0.72 s at the end of 9-10 s jobs of
// 4 MiB items). So the input's last itemBytes are cut TAIL_PARTS times finer, as guided self-scheduling
// shrinks the chunks it hands out towards the end.
export const TAIL_PARTS = 4;

/** The job's files cut into work items, in order: consecutive groupable files of one kind while their
 * sizes on disk add up to at most `itemBytes` (itemBytes / TAIL_PARTS within the input's last itemBytes;
 * a larger file alone); any other file an item of its own. Deterministic for the same files and sizes,
 * and a group never spans a change of reader (read-files gives each run of one kind a reader of its
 * own), so the merge's run starts fall on item boundaries. */
export function groupItems(read: Step, files: readonly string[], itemBytes: number): string[][] {
  const sizes = files.map((f) => statSync(f).size);
  let left = sizes.reduce((a, b) => a + b, 0); // from the current file to the end
  const groups: string[][] = [];
  let cur: string[] = [];
  let bytes = 0;
  let kind: string | null = null;
  for (let i = 0; i < files.length; i++) {
    const f = files[i]!,
      size = sizes[i]!;
    const limit = left <= itemBytes ? itemBytes / TAIL_PARTS : itemBytes;
    left -= size;
    const k = groupable(read, f) ? inputKind(f) : null;
    const joins = cur.length > 0 && k !== null && k === kind && bytes + size <= limit && cur.length < MAX_ITEM_FILES;
    if (!joins && cur.length > 0) {
      groups.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(f);
    bytes += size;
    kind = k;
  }
  if (cur.length > 0) groups.push(cur);
  return groups;
}

const headBuf = new Uint8Array(64 << 10);

/** A plain text file's weight as one document (whole-file.ts: each line's bytes + 1, BOM excluded):
 * its size less a BOM, plus 1 unless it ends with a newline. A small file is read whole in one call; of
 * a larger one only the first 64 KiB and the last byte (a gzipped file is decompressed). */
function textWeight(file: string): number {
  let size: number, head: Uint8Array, last: number | undefined;
  if (file.endsWith('.gz')) {
    const b = gunzipSync(readFileSync(file));
    [size, head, last] = [b.length, b.subarray(0, 3), b[b.length - 1]];
  } else {
    const fd = openSync(file, 'r');
    try {
      // most files are small: one read from the start gives the size, the head and the last byte
      const got = readSync(fd, headBuf, 0, headBuf.length, 0);
      if (got < headBuf.length) {
        size = got;
        head = headBuf.subarray(0, Math.min(3, got));
        last = got > 0 ? headBuf[got - 1] : undefined;
      } else {
        size = fstatSync(fd).size;
        head = headBuf.subarray(0, 3);
        const end = new Uint8Array(1);
        last = readSync(fd, end, 0, 1, size - 1) === 1 ? end[0] : undefined;
      }
    } finally {
      closeSync(fd);
    }
  }
  const offset = size >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  return size === offset ? 0 : size - offset + (last === 10 ? 0 : 1);
}

/** Each record's line bytes, for the lines read-jsonl makes a document of. */
async function jsonlWeights(file: string, config: Record<string, unknown>): Promise<number[]> {
  const cfg = parseConfig(readJsonl.def, { ...config, paths: [file] });
  const out: number[] = [];
  for await (const lines of readLines(file, { maxLineBytes: cfg.maxLineBytes }))
    for (const l of lines) if (parseLine(l, cfg)?.ok) out.push(l.bytes.length);
  return out;
}

/** The weights of the documents of `files` (in order) under the job's reader step, or undefined when
 * its batches end with each file (then an item has one file: groupItems). */
export async function weightsOfAll(read: Step, files: readonly string[]): Promise<number[] | undefined> {
  const out: number[] = [];
  for (const f of files) {
    const w = await weightsOf(read, f);
    if (!w) {
      if (files.length > 1) throw new Error(`internal: ${f} has no document weights but shares a work item`);
      return undefined;
    }
    for (const x of w) out.push(x);
  }
  return out;
}

/** The weights of `file`'s documents under the job's reader step, or undefined when its batches end
 * with each file. */
export async function weightsOf(read: Step, file: string): Promise<number[] | undefined> {
  const config = (read.config ?? {}) as Record<string, unknown>;
  const kind = read.op === readFiles ? inputKind(file) : undefined;
  if (read.op === readText || kind === 'text') {
    const unit = read.op === readText ? textUnit(read) : 'file';
    if (unit !== 'file') return undefined;
    return [textWeight(file)];
  }
  if (read.op === readJsonl) return jsonlWeights(file, config);
  if (kind === 'jsonl') return jsonlWeights(file, {});
  return undefined;
}

/** The batcher the job's reader collects `file`'s documents with: DocBatcher (plain text) or RowBatcher
 * (JSON Lines, WARC; also assumed for Parquet and IPC, whose batches are the files' own). */
export function layoutOf(op: Step['op'], file: string): 'doc' | 'row' {
  return op === readText || (op === readFiles && inputKind(file) === 'text') ? 'doc' : 'row';
}
