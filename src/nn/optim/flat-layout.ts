// The model's parameters as one flat float32 index space, in `specs` order (the order they are
// initialised and stored). Sharded state (ZeRO-1) and flat collectives address elements by their
// flat index; this maps between that space and the named per-parameter arrays.
import { sizeOf, type ParamSpec } from '../model/params.ts';

export interface FlatEntry {
  readonly name: string;
  readonly spec: ParamSpec;
  /** first flat index of this parameter */
  readonly offset: number;
  /** number of elements */
  readonly size: number;
}

/** The part of one parameter inside a flat range: elements [from, to) of the parameter, which sit at
 * flat indices [entry.offset + from, entry.offset + to). */
export interface FlatSegment {
  readonly entry: FlatEntry;
  readonly from: number;
  readonly to: number;
}

export class FlatLayout {
  readonly entries: readonly FlatEntry[];
  /** total number of elements (all parameters) */
  readonly total: number;
  private readonly byName: ReadonlyMap<string, FlatEntry>;

  constructor(specs: readonly ParamSpec[]) {
    const entries: FlatEntry[] = [];
    const byName = new Map<string, FlatEntry>();
    let offset = 0;
    for (const spec of specs) {
      if (byName.has(spec.name))
        throw new Error(`FlatLayout: parameter ${spec.name} appears twice in the specs; names must be unique`);
      const e: FlatEntry = { name: spec.name, spec, offset, size: sizeOf(spec.shape) };
      entries.push(e);
      byName.set(spec.name, e);
      offset += e.size;
    }
    this.entries = entries;
    this.byName = byName;
    this.total = offset;
  }

  entry(name: string): FlatEntry {
    const e = this.byName.get(name);
    if (!e)
      throw new Error(
        `FlatLayout: no parameter ${name}; known: ${this.entries
          .slice(0, 6)
          .map((x) => x.name)
          .join(', ')}...`,
      );
    return e;
  }

  /** Copies every parameter's values into one flat array (`out` if given, else a new one). Every
   * parameter of the layout must be present with its size. */
  flatten(values: ReadonlyMap<string, Float32Array>, out: Float32Array = new Float32Array(this.total)): Float32Array {
    if (out.length !== this.total)
      throw new Error(`FlatLayout.flatten: output has ${out.length} elements, the layout ${this.total}`);
    for (const e of this.entries) out.set(this.checked(values, e, 'flatten'), e.offset);
    return out;
  }

  /** Named views into `flat` (no copy: writing to one writes to `flat`), in layout order. */
  unflatten(flat: Float32Array): Map<string, Float32Array> {
    if (flat.length !== this.total)
      throw new Error(`FlatLayout.unflatten: array has ${flat.length} elements, the layout ${this.total}`);
    return new Map(this.entries.map((e) => [e.name, flat.subarray(e.offset, e.offset + e.size)]));
  }

  /** The parameters overlapping the flat range [start, end), in order, each with the part inside it. */
  segments(start: number, end: number): FlatSegment[] {
    if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= this.total)) {
      throw new Error(`FlatLayout.segments: range [${start}, ${end}) is not inside [0, ${this.total})`);
    }
    const out: FlatSegment[] = [];
    if (start === end) return out;
    // binary search: the last entry starting at or before `start` holds it (an empty parameter there
    // would mean the ones before it end before `start`)
    let lo = 0;
    let hi = this.entries.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.entries[mid]!.offset <= start) lo = mid;
      else hi = mid - 1;
    }
    for (let i = lo; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (e.offset >= end) break;
      const from = Math.max(start, e.offset) - e.offset;
      const to = Math.min(end, e.offset + e.size) - e.offset;
      if (to > from) out.push({ entry: e, from, to });
    }
    return out;
  }

  /** Copies the flat range [start, end) out of named arrays into `out` (length end - start). */
  gatherRange(
    values: ReadonlyMap<string, Float32Array>,
    start: number,
    end: number,
    out: Float32Array = new Float32Array(end - start),
  ): Float32Array {
    if (out.length !== end - start)
      throw new Error(
        `FlatLayout.gatherRange: output has ${out.length} elements, the range [${start}, ${end}) ${end - start}`,
      );
    for (const s of this.segments(start, end)) {
      out.set(this.checked(values, s.entry, 'gatherRange').subarray(s.from, s.to), s.entry.offset + s.from - start);
    }
    return out;
  }

  private checked(values: ReadonlyMap<string, Float32Array>, e: FlatEntry, what: string): Float32Array {
    const v = values.get(e.name);
    if (!v)
      throw new Error(`FlatLayout.${what}: no values for parameter ${e.name}; every parameter of the layout is needed`);
    if (v.length !== e.size)
      throw new Error(
        `FlatLayout.${what}: ${e.name} has ${v.length} values, expected ${e.size} (shape [${e.spec.shape}])`,
      );
    return v;
  }
}
