// The MinHash inner loop: for each permutation i, the minimum over a document's shingle hashes x of
// h_i(x) = a_i * x + b_i mod 2^32 (a_i odd: a bijection of 32-bit values), in signed int32 order. It is
// where signature time goes (numPerm multiply-adds per shingle), so it runs as a small WebAssembly
// SIMD function (4 lanes, 16 permutations per pass over the shingles), assembled below from named
// opcodes; a plain JS loop with identical results stands in where SIMD is unavailable.
import { PAGE, instantiate, op, wasmModule, type WasmMemory, type WasmModule } from '../wasm.ts';

// Layout of the wasm memory: [a, b per 16-permutation group: 128 bytes][minima: 64 bytes a group][shingles]
type SigFn = (xs: number, n: number, ab: number, out: number, groups: number) => void;

/** Encodes the function; returns undefined where WebAssembly SIMD does not validate. */
function simdModule(): WasmModule | undefined {
  const { get, set, simd } = op,
    i32 = op.const;
  const load128 = (offset: number) => simd(0x00, 4, offset),
    store128 = (offset: number) => simd(0x0b, 4, offset);
  const { add: ADD, shl: SHL, geU: GE_U, block: BLOCK, loop: LOOP, end: END, br: BR, brIf: BR_IF } = op;
  const LOAD = op.load();
  const SPLAT = simd(0x11),
    MUL = simd(0xb5),
    VADD = simd(0xae),
    MIN_S = simd(0xb6);
  const MAXV = simd(0x0c, ...Array.from({ length: 4 }, () => [0xff, 0xff, 0xff, 0x7f]).flat());
  // params: 0 xs, 1 n, 2 ab, 3 out, 4 groups; i32 locals: 5 g, 6 p, 7 end, 8 base; v128: 9 x, 10-13 a, 14-17 b, 18-21 min
  const four = (f: (k: number) => number[]) => [0, 1, 2, 3].flatMap(f);
  const body = [
    ...get(0),
    ...get(1),
    ...i32(2),
    SHL,
    ADD,
    ...set(7),
    ...BLOCK,
    ...LOOP,
    ...get(5),
    ...get(4),
    GE_U,
    BR_IF,
    1,
    ...get(2),
    ...get(5),
    ...i32(7),
    SHL,
    ADD,
    ...set(8),
    ...four((k) => [...get(8), ...load128(16 * k), ...set(10 + k)]),
    ...four((k) => [...get(8), ...load128(64 + 16 * k), ...set(14 + k)]),
    ...four((k) => [...MAXV, ...set(18 + k)]),
    ...get(0),
    ...set(6),
    ...BLOCK,
    ...LOOP,
    ...get(6),
    ...get(7),
    GE_U,
    BR_IF,
    1,
    ...get(6),
    ...LOAD,
    ...SPLAT,
    ...set(9),
    ...four((k) => [
      ...get(18 + k),
      ...get(9),
      ...get(10 + k),
      ...MUL,
      ...get(14 + k),
      ...VADD,
      ...MIN_S,
      ...set(18 + k),
    ]),
    ...get(6),
    ...i32(4),
    ADD,
    ...set(6),
    BR,
    0,
    END,
    END,
    ...four((k) => [...get(3), ...get(5), ...i32(6), SHL, ADD, ...get(18 + k), ...store128(16 * k)]),
    ...get(5),
    ...i32(1),
    ADD,
    ...set(5),
    BR,
    0,
    END,
    END,
  ];
  return wasmModule(
    [
      {
        name: 'sig',
        params: Array<number>(5).fill(op.i32),
        results: [],
        locals: [
          [4, op.i32],
          [13, op.v128],
        ],
        body,
      },
    ],
    1,
  );
}

let compiled: WasmModule | null | undefined;
const simd = (): WasmModule | undefined => {
  if (compiled === undefined) compiled = (process.env.FLOWLM_MINHASH_SIMD === '0' ? undefined : simdModule()) ?? null;
  return compiled ?? undefined;
};

/** Holds the shingle buffer of one document and computes its minima. */
export class Permuter {
  /** shingle hashes of the current document: fill `xs[0..n)`, growing with `grow` */
  xs: Int32Array;
  readonly simd: boolean;
  private readonly groups: number;
  private readonly run?: SigFn;
  private readonly mem?: WasmMemory;
  private readonly xsAt: number;
  private out: Int32Array;

  /** `useSimd: false` forces the JS loop (tests compare the two) */
  constructor(
    private readonly a: Int32Array,
    private readonly b: Int32Array,
    useSimd = true,
  ) {
    this.groups = Math.ceil(a.length / 16);
    this.xsAt = this.groups * 192;
    const mod = useSimd ? simd() : undefined;
    this.simd = mod !== undefined;
    if (mod) {
      const { fns, mem } = instantiate<{ sig: SigFn }>(mod);
      this.mem = mem;
      this.run = fns.sig;
      this.mem.grow(Math.ceil((this.xsAt + 4096 * 4) / PAGE));
      const ab = new Int32Array(this.mem.buffer, 0, this.groups * 32);
      for (let i = 0; i < a.length; i++) {
        const g = i >> 4,
          l = i & 15;
        ab[g * 32 + l] = a[i]!;
        ab[g * 32 + 16 + l] = b[i]!;
      }
      this.xs = new Int32Array(this.mem.buffer, this.xsAt);
      this.out = new Int32Array(this.mem.buffer, this.groups * 128, this.groups * 16);
    } else {
      this.xs = new Int32Array(4096);
      this.out = new Int32Array(this.groups * 16);
    }
  }

  /** A larger shingle buffer keeping its first `n` values. */
  grow(n: number): Int32Array {
    if (this.mem) {
      this.mem.grow(Math.ceil((this.xs.byteLength + 4) / PAGE));
      this.xs = new Int32Array(this.mem.buffer, this.xsAt);
      this.out = new Int32Array(this.mem.buffer, this.groups * 128, this.groups * 16);
    } else {
      const xs = new Int32Array(this.xs.length * 2);
      xs.set(this.xs.subarray(0, n));
      this.xs = xs;
    }
    return this.xs;
  }

  /** Minima over xs[0..n) into `dst` (numPerm values; int32 max when n is 0). */
  minima(n: number, dst: Int32Array): void {
    if (this.run) {
      this.run(this.xsAt, n, 0, this.groups * 128, this.groups);
      dst.set(this.out.subarray(0, dst.length));
      return;
    }
    const { a, b, xs } = this;
    for (let i = 0; i < dst.length; i++) {
      const ai = a[i]!,
        bi = b[i]!;
      let m = 0x7fffffff;
      for (let j = 0; j < n; j++) {
        const v = (Math.imul(ai, xs[j]!) + bi) | 0;
        if (v < m) m = v;
      }
      dst[i] = m;
    }
  }
}
