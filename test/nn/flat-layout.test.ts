// The parameters as one flat index space: contiguous in specs order, round trips bit for bit, views
// share storage, and the segments of any range (as ZeRO-1 shards use) cover it exactly.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { FlatLayout } from '../../src/nn/optim/flat-layout.ts';
import { Gpt } from '../../src/nn/model/gpt.ts';
import { paramSpecs } from '../../src/nn/model/params.ts';
import { gptConfig } from '../../src/nn/model/config.ts';
import { shardRange } from '../../src/runtime/collectives/collective.ts';

beforeAll(async () => {
  await initBackend({ announce: false });
});

const cfg = { vocabSize: 40, contextLength: 12, nLayer: 2, nHead: 2, dModel: 16 };
const same = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('FlatLayout', () => {
  it('lays the parameters out contiguously in specs order and round-trips their values bit for bit', () => {
    const model = Gpt.create(cfg, { seed: 3 });
    const layout = new FlatLayout(model.specs);
    expect(layout.total).toBe(model.numParams());
    expect(layout.entries.map((e) => e.name)).toEqual(model.specs.map((s) => s.name));
    let next = 0;
    for (const e of layout.entries) {
      expect(e.offset, e.name).toBe(next);
      expect(e.size, e.name).toBe(model.param(e.name).size);
      next += e.size;
    }
    const values = model.getParams();
    const flat = layout.flatten(values);
    const e = layout.entry('h.1.mlp.c_fc.weight');
    expect(same(flat.subarray(e.offset, e.offset + e.size), values.get('h.1.mlp.c_fc.weight')!)).toBe(true);
    const back = layout.unflatten(flat);
    expect([...back.keys()]).toEqual([...values.keys()]);
    for (const [name, v] of values) expect(same(back.get(name)!, v), name).toBe(true);
    model.dispose();
  });

  it('unflatten gives views: writing a named array writes the flat one', () => {
    const layout = new FlatLayout(paramSpecs(gptConfig(cfg)));
    const flat = new Float32Array(layout.total);
    const named = layout.unflatten(flat);
    named.get('h.0.ln_2.bias')![5] = 7.5;
    expect(flat[layout.entry('h.0.ln_2.bias').offset + 5]).toBe(7.5);
    expect(flat.reduce((a, b) => a + b, 0)).toBe(7.5);
  });

  it('segments of a range cover exactly that range, in order, split at parameter boundaries', () => {
    const layout = new FlatLayout(paramSpecs(gptConfig(cfg)));
    const flat = Float32Array.from({ length: layout.total }, (_, i) => i);
    const named = layout.unflatten(flat);
    const ranges: [number, number][] = [
      [0, layout.total],
      [0, 0],
      [layout.total, layout.total],
      [5, 6],
      [630, 700],
      [1000, 4321],
    ];
    for (let w = 1; w <= 5; w++) for (let r = 0; r < w; r++) ranges.push(shardRange(layout.total, r, w));
    for (const [start, end] of ranges) {
      const covered: number[] = [];
      for (const s of layout.segments(start, end)) {
        expect(s.to).toBeGreaterThan(s.from);
        expect(s.to).toBeLessThanOrEqual(s.entry.size);
        for (let i = s.from; i < s.to; i++) covered.push(named.get(s.entry.name)![i]!);
      }
      // flat value i is i: the covered elements are exactly start, start + 1, ..., end - 1
      expect(covered).toEqual(Array.from({ length: end - start }, (_, k) => start + k));
      expect(Array.from(layout.gatherRange(named, start, end))).toEqual(covered);
    }
    // a range inside one parameter is one segment
    const wpe = layout.entry('wpe.weight');
    expect(layout.segments(wpe.offset + 3, wpe.offset + 9)).toEqual([{ entry: wpe, from: 3, to: 9 }]);
  });

  it('says which parameter is missing or the wrong size, and rejects ranges outside the space', () => {
    const layout = new FlatLayout(paramSpecs(gptConfig(cfg)));
    const values = layout.unflatten(new Float32Array(layout.total));
    const missing = new Map(values);
    missing.delete('h.1.ln_1.weight');
    expect(() => layout.flatten(missing)).toThrow(/no values for parameter h\.1\.ln_1\.weight/);
    const short = new Map(values);
    short.set('wte.weight', new Float32Array(3));
    expect(() => layout.flatten(short)).toThrow(/wte\.weight has 3 values, expected 640/);
    expect(() => layout.unflatten(new Float32Array(layout.total - 1))).toThrow(/elements, the layout/);
    expect(() => layout.segments(10, layout.total + 1)).toThrow(/not inside/);
    expect(() => layout.entry('nope')).toThrow(/no parameter nope/);
    expect(() => new FlatLayout([...paramSpecs(gptConfig(cfg)), paramSpecs(gptConfig(cfg))[0]!])).toThrow(
      /appears twice/,
    );
  });
});
