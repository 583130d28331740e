// MinHash near-dedup throughput on one core: signatures (integer shingle hashing + the SIMD
// permutation kernel) and the LSH index, over real text (State of the Union addresses, Moby-Dick,
// SpamAssassin e-mail bodies) repeated up to `mb` megabytes. Baselines in the same process: the same
// signatures with the plain JS permutation loop, and MinHash over per-shingle strings (what the
// integer hashing replaces), each on a `baselineMb` slice; plus exact dedup (normalise + xxhash64 +
// index) and the whole minhashDedup operator over Arrow batches. Medians of `rounds`; CPU-time figures
// too, since on a shared machine wall time measures the share of the core we got.
// Args: mb=50 rounds=5 baselineMb=5 (the figures quoted in the README: the defaults)
import { loadavg } from 'node:os';
import { lastValueFrom, from, toArray } from 'rxjs';
import { MinHasher, fmix32 } from '../operators/dedup/minhash/signature.ts';
import { LshIndex } from '../operators/dedup/minhash/lsh.ts';
import { resolveBanding } from '../operators/dedup/minhash/config.ts';
import { minhashDedup } from '../operators/dedup/minhash/filter.ts';
import { shingleSet } from '../operators/dedup/minhash/tokens.ts';
import { Permuter } from '../operators/dedup/minhash/permute.ts';
import { normalizeForExact, xxhashApi } from '../operators/dedup/exact.ts';
import { SeenSet } from '../operators/dedup/seen-set.ts';
import { docBatches, emailBodies, mobyChapters, sotu } from '../test/operators/dedup/corpus.ts';
import { median } from './_median.ts';

const arg = (args: string[], name: string, dflt: number) => {
  const a = args.find((x) => x.startsWith(`${name}=`));
  const v = a ? Number(a.slice(name.length + 1)) : dflt;
  if (!(v > 0)) throw new Error(`bench minhash: ${name} must be a positive number, got ${a}`);
  return v;
};
const round1 = (x: number) => Math.round(x * 10) / 10;

/** Wall and CPU seconds of `fn`. */
function timed(fn: () => void): { wall: number; cpu: number } {
  const c0 = process.cpuUsage(),
    t0 = performance.now();
  fn();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

export default async function minhash(args: string[]): Promise<Record<string, unknown>> {
  const targetMb = arg(args, 'mb', 50),
    rounds = arg(args, 'rounds', 5),
    baselineMb = arg(args, 'baselineMb', 5);
  const real = [
    ...sotu(),
    ...mobyChapters(),
    ...['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2'].flatMap((f) => emailBodies(f)),
  ].map((d) => d.text);
  const bytes = (ts: readonly string[]) => ts.reduce((n, t) => n + Buffer.byteLength(t), 0);
  const realMb = bytes(real) / 1e6;
  const texts: string[] = [];
  while (bytes(texts) / 1e6 < targetMb) texts.push(...real);
  const mb = bytes(texts) / 1e6;
  const slice = texts.slice(0, Math.max(1, Math.round(texts.length * Math.min(1, baselineMb / mb))));
  const sliceMb = bytes(slice) / 1e6;
  console.error(
    `minhash bench: ${texts.length} documents, ${mb.toFixed(1)} MB (${real.length} real documents, ${realMb.toFixed(1)} MB, repeated); load ${loadavg()[0]!.toFixed(1)}`,
  );

  const params = { unit: 'word' as const, shingleSize: 5, numPerm: 128, seed: 1 };
  const { bands, rows } = resolveBanding({ threshold: 0.8, verify: true, numPerm: 128 });
  const lshParams = {
    numPerm: 128,
    bands,
    rows,
    threshold: 0.8,
    verify: true,
    maxDocs: 1_000_000,
    onFull: 'fail' as const,
  };
  const simd = new MinHasher(params),
    js = new MinHasher(params, false);
  const sig = new Int32Array(128),
    bits = new Uint32Array(sig.buffer);

  const dropped: number[] = [];
  const signAndIndex = (hasher: MinHasher, docs: readonly string[]) => () => {
    const index = new LshIndex(lshParams, {});
    let n = 0;
    for (const t of docs)
      if (hasher.signInto(t, sig) > 0) {
        index.add(bits, 0, 0);
        if (index.duplicate) n++;
      }
    if (hasher === simd && docs === texts) dropped.push(n);
  };
  // the LSH index alone, over signatures computed beforehand
  const sigs = new Uint32Array(texts.length * 128);
  const has = new Uint8Array(texts.length);
  texts.forEach((t, i) => {
    if (simd.signInto(t, sig) > 0) {
      sigs.set(bits, i * 128);
      has[i] = 1;
    }
  });
  const lshOnly = () => {
    const index = new LshIndex(lshParams, {});
    for (let i = 0; i < texts.length; i++) if (has[i]) index.add(sigs, i * 128, 0);
  };
  // the baseline integer hashing replaces: a string per shingle, hashed, then the same permutations
  const strPermuter = new Permuter(
    Int32Array.from({ length: 128 }, (_, i) => fmix32(i * 2 + 1) | 1),
    Int32Array.from({ length: 128 }, (_, i) => fmix32(i * 2 + 2)),
    false,
  );
  const stringShingles = (docs: readonly string[]) => () => {
    for (const t of docs) {
      let n = 0,
        xs = strPermuter.xs;
      for (const s of shingleSet(t, 'word', 5)) {
        let h = 0x811c9dc5 | 0;
        for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
        if (n === xs.length) xs = strPermuter.grow(n);
        xs[n++] = fmix32(h);
      }
      strPermuter.minima(n, sig);
    }
  };
  const h = await xxhashApi();
  const exact = (docs: readonly string[]) => () => {
    const set = new SeenSet(10_000_000, 'fail', {});
    const norm = { lowercase: true, whitespace: true, punctuation: false };
    for (const t of docs) {
      const k = h.h64(normalizeForExact(t, norm), 0n);
      set.check(Number(k & 0xffffffffn), Number(k >> 32n), 0);
    }
  };
  const batches = docBatches(
    texts.map((text, i) => ({ id: String(i), text })),
    256,
  );
  const operatorRun = async () => {
    const c0 = process.cpuUsage(),
      t0 = performance.now();
    await lastValueFrom(from(batches).pipe(minhashDedup({}, { log: () => undefined }), toArray()));
    const c = process.cpuUsage(c0);
    return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
  };

  const runs: Record<string, { wall: number[]; cpu: number[] }> = {};
  const record = (name: string, r: { wall: number; cpu: number }) => {
    const x = (runs[name] ??= { wall: [], cpu: [] });
    x.wall.push(r.wall);
    x.cpu.push(r.cpu);
  };
  signAndIndex(simd, slice)(); // warm up
  for (let r = 0; r < rounds; r++) {
    record('minhash', timed(signAndIndex(simd, texts)));
    record('lsh', timed(lshOnly));
    record('js', timed(signAndIndex(js, slice)));
    record('strings', timed(stringShingles(slice)));
    record('exact', timed(exact(texts)));
    record('operator', await operatorRun());
    console.error(
      `round ${r + 1}/${rounds}: minhash ${(mb / runs.minhash!.wall.at(-1)!).toFixed(1)} MB/s, load ${loadavg()[0]!.toFixed(1)}`,
    );
  }
  const rate = (name: string, size: number, of: 'wall' | 'cpu' = 'wall') => size / median(runs[name]![of]);
  const mbps = rate('minhash', mb);
  return {
    bench: 'minhash',
    mb: round1(mb),
    docs: texts.length,
    rounds,
    simd: simd.simd,
    settings: { ...params, bands, rows, threshold: 0.8, verify: true },
    mb_per_s: round1(mbps),
    docs_per_s: Math.round(rate('minhash', texts.length)),
    mb_per_cpu_s: round1(rate('minhash', mb, 'cpu')),
    lsh_docs_per_s: Math.round(rate('lsh', texts.length)),
    near_duplicates: dropped[0], // the repeats, and the real near-duplicates among the e-mails
    js_loop_mb_per_s: round1(rate('js', sliceMb)),
    string_shingles_mb_per_s: round1(rate('strings', sliceMb)),
    speedup_vs_js_loop: round1(mbps / rate('js', sliceMb)),
    speedup_vs_string_shingles: round1(mbps / rate('strings', sliceMb)),
    exact_mb_per_s: round1(rate('exact', mb)),
    exact_mb_per_cpu_s: round1(rate('exact', mb, 'cpu')),
    operator_mb_per_s: round1(rate('operator', mb)),
    load: round1(loadavg()[0]!),
  };
}
