// The checkpoint store: bit-exact round trips (signed zeros, subnormals, NaN payloads), checksums that
// name the damaged file, keep-last-K and the latest pointer, leftovers of dead writers, and a writer
// SIGKILLed in the middle of saving large checkpoints, which must leave only complete, loadable ones.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import {
  findLatest,
  listCheckpoints,
  loadCheckpoint,
  saveCheckpoint,
  stepDirName,
  tensorTableSchema,
  type Checkpoint,
  type NamedTensors,
} from '../../src/nn/checkpoint/index.ts';
import { tensorBatch } from '../../src/nn/checkpoint/tensor-table.ts';
import { valuesOf, withShapes } from '../../src/nn/checkpoint/convert.ts';
import { gptConfig } from '../../src/nn/model/config.ts';
import { initialValues, paramSpecs } from '../../src/nn/model/params.ts';
import { loopValues } from '../fixtures/checkpoint-values.ts';
import { TS_IMPORT } from '../cli/spawn.ts';

const root = mkdtempSync(join(tmpdir(), 'flowlm-checkpoint-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `run-${n++}`);

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Values a float32 round trip through a number would lose or change: signed zeros, subnormals,
 * extremes, infinities and NaNs with distinct payloads (quiet and signalling, both signs). */
function awkward(): Float32Array {
  const v = new Float32Array(16);
  const u = new Uint32Array(v.buffer);
  v.set([
    0,
    -0,
    1.4e-45,
    -1.4e-45,
    1.1754942e-38,
    3.4028235e38,
    -3.4028235e38,
    Infinity,
    -Infinity,
    0.1,
    -2.5e-7,
    1 / 3,
  ]);
  u[12] = 0x7fc00001;
  u[13] = 0xffc12345;
  u[14] = 0x7f800001;
  u[15] = 0x7fbfffff;
  return v;
}

/** A small GPT-2-shaped parameter set (names as params.ts uses) with seeded values. */
function gptParams(seed: number, d = 16, layers = 2, vocab = 97): NamedTensors {
  let x = seed >>> 0;
  const rand = () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return (x / 2 ** 32 - 0.5) * 0.04;
  };
  const t = (shape: number[]) => ({
    shape,
    values: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, rand),
  });
  const p: NamedTensors = new Map([
    ['wte.weight', t([vocab, d])],
    ['wpe.weight', t([8, d])],
  ]);
  for (let i = 0; i < layers; i++) {
    for (const [name, shape] of [
      ['ln_1.weight', [d]],
      ['ln_1.bias', [d]],
      ['attn.c_attn.weight', [d, 3 * d]],
      ['attn.c_attn.bias', [3 * d]],
      ['attn.c_proj.weight', [d, d]],
      ['attn.c_proj.bias', [d]],
      ['ln_2.weight', [d]],
      ['ln_2.bias', [d]],
      ['mlp.c_fc.weight', [d, 4 * d]],
      ['mlp.c_fc.bias', [4 * d]],
      ['mlp.c_proj.weight', [4 * d, d]],
      ['mlp.c_proj.bias', [d]],
    ] as const)
      p.set(`h.${i}.${name}`, t([...shape]));
  }
  p.set('ln_f.weight', t([d]));
  p.set('ln_f.bias', t([d]));
  return p;
}

function checkpoint(step: number, seed = step): Checkpoint {
  const params = gptParams(seed);
  params.set('awkward', { shape: [4, 4], values: awkward() });
  params.set('empty', { shape: [0, 3], values: new Float32Array(0) });
  params.set('scalar', { shape: [], values: Float32Array.of(-0) });
  const moments = (k: number): NamedTensors =>
    new Map([...params].map(([name, t]) => [name, { shape: t.shape, values: t.values.map((x) => x * k) }]));
  return {
    step,
    params,
    optimizer: {
      m: moments(0.1),
      v: moments(0.01),
      vmax: moments(0.02),
      step,
      beta1: 0.9,
      beta2: 0.95,
      schedule: { warmup: 10 },
    },
    state: {
      rng: { algorithm: 'xoshiro128**', s: [1, 2, 3, 0xffffffff] },
      dataCursor: { shard: 3, row: 1234, epoch: 0 },
      configHash: 'c0ffee'.repeat(10),
      config: { model: { nLayer: 2, dModel: 16 }, lr: 3e-4 },
      extra: { tokensSeen: 12_345_678 },
    },
  };
}

function expectSameTensors(got: NamedTensors, want: NamedTensors) {
  expect([...got.keys()]).toEqual([...want.keys()]);
  for (const [name, t] of want) {
    const g = got.get(name)!;
    expect(g.shape, name).toEqual(t.shape);
    expect(g.values).toBeInstanceOf(Float32Array);
    expect(Buffer.compare(bits(g.values), bits(t.values)), `bits of ${name}`).toBe(0);
  }
}

describe('checkpoint store', () => {
  it('round-trips parameters, every optimizer slot and the training state bit for bit', async () => {
    const run = fresh();
    const ck = checkpoint(120);
    const saved = await saveCheckpoint(run, ck, { keepLast: 2 });
    expect(saved.dir).toBe(join(run, 'step-000120'));
    expect(readdirSync(saved.dir).sort()).toEqual(['optimizer.arrow', 'params.arrow', 'state.json']);

    for (const from of [saved.dir, run]) {
      const back = await loadCheckpoint(from);
      expect(back.dir).toBe(saved.dir);
      expect(back.step).toBe(120);
      expectSameTensors(back.params, ck.params);
      expectSameTensors(back.optimizer.m, ck.optimizer.m);
      expectSameTensors(back.optimizer.v, ck.optimizer.v);
      expectSameTensors(back.optimizer.vmax as NamedTensors, ck.optimizer.vmax as NamedTensors);
      expect({
        step: back.optimizer.step,
        beta1: back.optimizer.beta1,
        beta2: back.optimizer.beta2,
        schedule: back.optimizer.schedule,
      }).toEqual({ step: 120, beta1: 0.9, beta2: 0.95, schedule: { warmup: 10 } });
      expect(back.state).toEqual(ck.state);
    }
    // the NaN payloads survived (a number round trip would make them all 0x7fc00000)
    const nan = new Uint32Array((await loadCheckpoint(run)).params.get('awkward')!.values.buffer.slice(0));
    expect([...nan.slice(12)].map((w) => w.toString(16))).toEqual(['7fc00001', 'ffc12345', '7f800001', '7fbfffff']);
  });

  it('stores plain Arrow tables (name, shape, values) that any Arrow reader opens, and checksums that match the files', async () => {
    const run = fresh();
    const ck = checkpoint(7);
    const saved = await saveCheckpoint(run, ck);
    const table = tableFromIPC(readFileSync(join(saved.dir, 'params.arrow')));
    expect(table.schema.fields.map((f) => `${f.name}: ${String(f.type)}`)).toEqual([
      'name: Utf8',
      'shape: List<Int32>',
      'values: List<Float32>',
    ]);
    expect(table.numRows).toBe(ck.params.size);
    expect(table.getChild('name')!.get(2)).toBe('h.0.ln_1.weight');
    const opt = tableFromIPC(readFileSync(join(saved.dir, 'optimizer.arrow')));
    expect(opt.numRows).toBe(3 * ck.params.size);
    expect(opt.getChild('name')!.get(0)).toBe('m/wte.weight');
    expect(opt.getChild('name')!.get(ck.params.size)).toBe('v/wte.weight');

    const state = JSON.parse(readFileSync(join(saved.dir, 'state.json'), 'utf8')) as Record<string, unknown>;
    expect(state).toMatchObject({
      format: 'flowlm-checkpoint',
      version: 1,
      step: 7,
      configHash: ck.state.configHash,
      rng: ck.state.rng,
      dataCursor: ck.state.dataCursor,
      optimizer: { slots: ['m', 'v', 'vmax'], scalars: { step: 7, beta1: 0.9, beta2: 0.95, schedule: { warmup: 10 } } },
    });
    for (const f of ['params.arrow', 'optimizer.arrow']) {
      expect((state.files as Record<string, { sha256: string; bytes: number }>)[f]).toEqual({
        sha256: sha(join(saved.dir, f)),
        bytes: statSync(join(saved.dir, f)).size,
        tensors: f === 'params.arrow' ? ck.params.size : 3 * ck.params.size,
      });
      expect(saved.sha256[f]).toBe(sha(join(saved.dir, f)));
    }
    // the same checkpoint saved again gives the same bytes (nothing time-dependent is stored)
    const again = await saveCheckpoint(fresh(), checkpoint(7));
    for (const f of ['params.arrow', 'optimizer.arrow', 'state.json'])
      expect(sha(join(again.dir, f))).toBe(sha(join(saved.dir, f)));
  });

  it("takes the model's plain value maps (shapes from its parameter specs) and gives them back", async () => {
    const cfg = gptConfig({ vocabSize: 50, contextLength: 16, nLayer: 2, nHead: 2, dModel: 8 });
    const specs = paramSpecs(cfg);
    const values = initialValues(cfg, 42);
    const params = withShapes(values, new Map(specs.map((p) => [p.name, p.shape])));
    expect(params.get('wte.weight')!.values).toBe(values.get('wte.weight')); // shared, not copied
    const zeros = () =>
      withShapes(
        new Map(specs.map((p) => [p.name, new Float32Array(p.shape.reduce((a, b) => a * b, 1))])),
        (name) => specs.find((p) => p.name === name)?.shape,
      );
    const run = fresh();
    await saveCheckpoint(run, {
      step: 0,
      params,
      optimizer: { m: zeros(), v: zeros(), step: 0 },
      state: { rng: null, dataCursor: null, configHash: 'x', config: cfg },
    });
    const back = await loadCheckpoint(run);
    const got = valuesOf(back.params);
    expect([...got.keys()]).toEqual(specs.map((p) => p.name));
    for (const [name, v] of values) expect(Buffer.compare(bits(got.get(name)!), bits(v)), name).toBe(0);
    expect(back.state.config).toEqual(cfg);
    expect(() => withShapes(values, new Map())).toThrow(/no shape known for tensor "wte\.weight"/);
  });

  it("hands each tensor's own Float32Array to the IPC writer (no copy of the values)", () => {
    const values = new Float32Array([1, 2, 3, 4, 5, 6]);
    const batch = tensorBatch(tensorTableSchema(), 'h.0.attn.c_proj.weight', { shape: [2, 3], values });
    expect(batch.getChild('values')!.data[0]!.children[0]!.values).toBe(values);
  });

  it('names the damaged or missing file when a checksum does not match, and refuses to load it', async () => {
    const run = fresh();
    const saved = await saveCheckpoint(run, checkpoint(3));
    for (const file of ['params.arrow', 'optimizer.arrow']) {
      const path = join(saved.dir, file);
      const good = readFileSync(path);
      const bad = Buffer.from(good);
      bad[Math.floor(bad.length / 2)]! ^= 0x01; // one bit inside the values
      writeFileSync(path, bad);
      await expect(loadCheckpoint(saved.dir)).rejects.toThrow(
        new RegExp(`checksum mismatch in .*step-000003/${file.replace('.', '\\.')}`),
      );
      writeFileSync(path, good.subarray(0, good.length - 8)); // truncated
      await expect(loadCheckpoint(run)).rejects.toThrow(file);
      rmSync(path);
      await expect(loadCheckpoint(run)).rejects.toThrow(new RegExp(`${file.replace('.', '\\.')} is missing`));
      writeFileSync(path, good);
    }
    await expect(loadCheckpoint(saved.dir)).resolves.toMatchObject({ step: 3 });
    writeFileSync(join(saved.dir, 'state.json'), '{"format":"flowlm-checkpoint","version":1,"step":"three"}');
    await expect(loadCheckpoint(saved.dir)).rejects.toThrow(/state\.json is not a flowlm checkpoint state.*step/);
  });

  it('keeps the last K checkpoints, moves latest.json to each new one, and replaces a step saved twice', async () => {
    const run = fresh();
    for (const step of [10, 20, 30, 40, 50]) {
      const saved = await saveCheckpoint(run, checkpoint(step), { keepLast: 3 });
      expect(saved.removed).toEqual(step >= 40 ? [join(run, stepDirName(step - 30))] : []);
      const names = readdirSync(run).sort();
      expect(names).toEqual(
        [...[10, 20, 30, 40, 50].filter((s) => s <= step && s > step - 30).map(stepDirName), 'latest.json'].sort(),
      );
      expect(JSON.parse(readFileSync(join(run, 'latest.json'), 'utf8'))).toEqual({ step, dir: stepDirName(step) });
      expect(await findLatest(run)).toEqual({ step, dir: join(run, stepDirName(step)) });
    }
    // saving step 50 again (a rerun after resume) replaces it with the new contents
    await saveCheckpoint(run, checkpoint(50, 999), { keepLast: 3 });
    expectSameTensors((await loadCheckpoint(run)).params, checkpoint(50, 999).params);
    // resuming from 30 and saving 35: latest follows the new trajectory; 40 and 50 are not older, so stay
    await saveCheckpoint(run, checkpoint(35), { keepLast: 2 });
    expect((await findLatest(run))!.step).toBe(35);
    expect((await listCheckpoints(run)).map((c) => c.step)).toEqual([30, 35, 40, 50]);
    // without latest.json (or with a broken one) the highest complete step stands in
    writeFileSync(join(run, 'latest.json'), '{"dir":"../elsewhere"}');
    expect((await findLatest(run))!.step).toBe(50);
    rmSync(join(run, 'latest.json'));
    expect((await loadCheckpoint(run)).step).toBe(50);
    await expect(saveCheckpoint(run, checkpoint(60), { keepLast: 0 })).rejects.toThrow(/keepLast/);
  });

  it('ignores and cleans what a dead writer left in flight, and puts back a checkpoint it had set aside', async () => {
    const run = fresh();
    await saveCheckpoint(run, checkpoint(10));
    const deadPid = spawnSync(process.execPath, ['-e', '0']).pid!;
    const leftovers = [
      `.tmp-step-000020-${deadPid}-abc123`,
      `.deleting-step-000005-${deadPid}-k2`,
      `.flowlm-tmp-${deadPid}-x1-latest.json`,
    ];
    mkdirSync(join(run, leftovers[0]!));
    writeFileSync(join(run, leftovers[0]!, 'params.arrow'), 'ARROW1 half a file');
    mkdirSync(join(run, leftovers[1]!));
    writeFileSync(join(run, leftovers[2]!), '{"st');
    // a live writer's temporary directory (this process) must be left alone
    const live = `.tmp-step-000030-${process.pid}-live1`;
    mkdirSync(join(run, live));
    // step 10 set aside for a replacement that never arrived
    renameSync(join(run, 'step-000010'), join(run, `.replaced-step-000010-${deadPid}-r1`));
    expect(await findLatest(run)).toBeUndefined();
    await expect(loadCheckpoint(run)).rejects.toThrow(/holds no checkpoint/);

    await saveCheckpoint(run, checkpoint(20), { keepLast: 5 });
    expect(readdirSync(run).sort()).toEqual([live, 'latest.json', 'step-000010', 'step-000020'].sort());
    expect((await loadCheckpoint(join(run, 'step-000010'))).step).toBe(10);
    expect((await loadCheckpoint(run)).step).toBe(20);
  });

  it('refuses tensors whose shape does not match their values, before writing anything', async () => {
    const run = fresh();
    const ck = checkpoint(1);
    ck.optimizer.m.set('h.0.ln_1.weight', { shape: [17], values: new Float32Array(16) });
    await expect(saveCheckpoint(run, ck)).rejects.toThrow(
      /optimizer\.m: tensor "h\.0\.ln_1\.weight" has shape \[17\] \(17 values\) but 16 values/,
    );
    expect(existsSync(run) ? readdirSync(run) : []).toEqual([]);
    const bad = checkpoint(1);
    bad.state.rng = { s: [1n] };
    await expect(saveCheckpoint(run, bad)).rejects.toThrow(/rng\.s\[0\] is a bigint/);
    expect(existsSync(run) ? readdirSync(run) : []).toEqual([]);
  });

  it('SIGKILL in the middle of saving large checkpoints leaves only complete, loadable ones and a loadable latest', {
    timeout: 180_000,
  }, async () => {
    const run = fresh();
    const millions = 2; // 8 MB per tensor, 24 MB per checkpoint
    const keep = 2;
    let next = 1;
    let killedMidSave = 0;
    for (let round = 0; round < 3; round++) {
      const child = spawn(
        process.execPath,
        ['--import', TS_IMPORT, 'test/fixtures/checkpoint-loop.ts', run, String(next), String(millions), String(keep)],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
      });
      const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, signal) => r(signal)));
      // after a couple of complete saves, kill as soon as a new checkpoint is being written (round 0
      // and 2) or at an arbitrary moment (round 1)
      const deadline = Date.now() + 45_000;
      while ((out.match(/saved/g) ?? []).length < 2 && Date.now() < deadline && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 5));
      expect(child.exitCode, `writer ended early: ${err}`).toBeNull();
      if (round === 1) await new Promise((r) => setTimeout(r, 37));
      else {
        const soon = Date.now() + 10_000;
        while (Date.now() < soon) {
          const tmp = readdirSync(run).find((f) => f.startsWith('.tmp-step-'));
          if (tmp && existsSync(join(run, tmp, 'params.arrow'))) break;
          await new Promise((r) => setImmediate(r));
        }
      }
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      if (readdirSync(run).some((f) => f.startsWith('.tmp-step-'))) killedMidSave++;

      // every visible checkpoint is complete: it verifies and holds the values of its step
      const complete = readdirSync(run)
        .filter((f) => /^step-\d+$/.test(f))
        .sort()
        .map((f) => ({ step: Number(f.slice(5)), dir: join(run, f) }));
      expect(complete).toEqual(await listCheckpoints(run));
      const lastSaved = Math.max(...[...out.matchAll(/saved (\d+)/g)].map((m) => Number(m[1])));
      expect(complete.length).toBeGreaterThanOrEqual(keep);
      expect(complete.at(-1)!.step).toBeGreaterThanOrEqual(lastSaved);
      for (const c of complete) {
        const ck = await loadCheckpoint(c.dir);
        expect(ck.step).toBe(c.step);
        const values = ck.params.get('wte.weight')!.values;
        expect(Buffer.compare(bits(values), bits(loopValues(c.step, millions * 1e6, 0)))).toBe(0);
        expect(
          Buffer.compare(
            bits(ck.optimizer.v.get('wte.weight')!.values),
            bits(loopValues(c.step, millions * 1e6, 0.25)),
          ),
        ).toBe(0);
      }
      const latest = await loadCheckpoint(run);
      expect(latest.step).toBeGreaterThanOrEqual(lastSaved);
      next = latest.step + 1;
    }
    expect(killedMidSave).toBeGreaterThanOrEqual(1);
    // the next save cleans the dead writers' temporary directories
    await saveCheckpoint(run, checkpoint(next), { keepLast: keep });
    expect(readdirSync(run).filter((f) => f.startsWith('.'))).toEqual([]);
    expect(readdirSync(run).length).toBe(keep + 1);
  });
});
