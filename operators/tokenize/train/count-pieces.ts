// Counting pre-tokenized pieces over a corpus of any size in bounded memory. Pieces are counted in a
// Map; the map's size is estimated as it grows (ENTRY_OVERHEAD bytes per entry plus 2 bytes per UTF-16
// unit of its key) and when the estimate passes maxBytes the map is written to disk as a sorted run
// and emptied. At the end the runs (and what is left in the map) are merged: the counts are exact,
// whatever the bound. Memory while counting: the bound plus one text; while merging, 1 MiB per run.
// The trainers then hold the distinct pieces, which grow with the vocabulary of the corpus, not its size.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeRuns, writeRun } from './count-runs.ts';

/** Estimated bytes of one Map entry besides its key's characters: hash table slot, entry, string header. */
export const ENTRY_OVERHEAD = 80;

export interface PieceCounterOptions {
  /** the estimated size of the map that triggers a spill to disk */
  maxBytes: number;
  /** where spill runs go (default: a new directory under the OS temp dir) */
  tmpDir?: string;
}

export class PieceCounter {
  // piece -> slot in `counts`: a repeated piece (nearly all of them) costs one hash lookup, not a get
  // and a set
  private map = new Map<string, number>();
  private counts: number[] = [];
  private bytes = 0;
  private dir?: string;
  private readonly runs: string[] = [];
  /** pieces added (with multiplicity) */
  total = 0;

  constructor(readonly opts: PieceCounterOptions) {
    if (!(opts.maxBytes > 0)) throw new Error(`piece counter: maxBytes must be > 0 (got ${opts.maxBytes})`);
  }

  /** runs spilled to disk so far */
  spills = 0;

  add(piece: string, n = 1): void {
    this.total += n;
    const slot = this.map.get(piece);
    if (slot !== undefined) {
      this.counts[slot]! += n;
      return;
    }
    // a key sliced from a long text would keep the whole text alive: long keys are copied flat (V8
    // copies slices under 13 units itself)
    this.map.set(piece.length >= 13 ? piece.split('').join('') : piece, this.counts.length);
    this.counts.push(n);
    this.bytes += ENTRY_OVERHEAD + 2 * piece.length;
    if (this.bytes > this.opts.maxBytes) this.spill();
  }

  private spill(): void {
    const parent = this.opts.tmpDir ?? tmpdir();
    try {
      this.dir ??= mkdtempSync(join(parent, 'flowlm-count-'));
    } catch (err) {
      throw new Error(
        `piece counter: cannot make a spill directory in ${parent} (${(err as Error).message}); the counts outgrew ` +
          'maxMemoryMB: give tmpDir an existing, writable directory, or raise maxMemoryMB (--max-memory-mb)',
      );
    }
    const file = join(this.dir, `run-${this.runs.length}.txt`);
    writeRun(file, this.current());
    this.runs.push(file);
    this.spills++;
    this.map = new Map();
    this.counts = [];
    this.bytes = 0;
  }

  /** Every distinct piece with its exact count (in piece order when anything was spilled, else in
   * order of first appearance); call once, after the last add. The spill files are removed when the
   * iteration ends. */
  *entries(): Generator<[string, number]> {
    if (this.runs.length === 0) {
      yield* this.current();
      return;
    }
    if (this.map.size > 0) this.spill();
    try {
      yield* mergeRuns(this.runs);
    } finally {
      this.dispose();
    }
  }

  /** The entries in memory. */
  private *current(): Generator<[string, number]> {
    const counts = this.counts;
    for (const [piece, slot] of this.map) yield [piece, counts[slot]!];
  }

  /** Removes the spill files (also after an error). */
  dispose(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
    this.runs.length = 0;
  }
}
