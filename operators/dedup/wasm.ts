// Small WebAssembly functions assembled in place from named opcodes, for the dedup inner loops
// that JS cannot make fast (MinHash permutations, exact-dedup text keys). No toolchain, no binary in
// the repository: the module is a few hundred bytes built at first use.

// The WebAssembly global, typed here: the project's TypeScript lib (ES2023, no DOM) does not declare it.
export interface WasmModule {
  readonly kind?: 'wasm-module';
}
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: Record<string, unknown> };
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
export const PAGE = 65536;

/** Unsigned LEB128 (indices, sizes, memory offsets). */
export const uleb = (n: number): number[] => {
  const o: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    o.push(b);
  } while (n);
  return o;
};
/** Signed LEB128 (i32.const immediates). */
export const sleb = (n: number): number[] => {
  const o: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      o.push(b);
      return o;
    }
    o.push(b | 0x80);
  }
};

/** Signed LEB128 of a 64-bit value (i64.const immediates). */
export const sleb64 = (v: bigint): number[] => {
  const o: number[] = [];
  let n = BigInt.asIntN(64, v);
  for (;;) {
    const b = Number(n & 0x7fn);
    n >>= 7n;
    if ((n === 0n && !(b & 0x40)) || (n === -1n && b & 0x40)) {
      o.push(b);
      return o;
    }
    o.push(b | 0x80);
  }
};

/** The opcodes the dedup functions use (value types, control, i32, i64, memory, SIMD). */
export const op = {
  i32: 0x7f,
  i64t: 0x7e,
  v128: 0x7b,
  void: 0x40,
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  return: 0x0f,
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  const: (n: number) => [0x41, ...sleb(n)],
  load: (offset = 0) => [0x28, 2, ...uleb(offset)],
  load8: (offset = 0) => [0x2d, 0, ...uleb(offset)],
  store8: (offset = 0) => [0x3a, 0, ...uleb(offset)],
  eqz: 0x45,
  eq: 0x46,
  ne: 0x47,
  ltU: 0x49,
  gtU: 0x4b,
  leU: 0x4d,
  geU: 0x4f,
  add: 0x6a,
  sub: 0x6b,
  and: 0x71,
  or: 0x72,
  shl: 0x74,
  shrU: 0x76,
  simd: (code: number, ...imm: number[]) => [0xfd, ...uleb(code), ...imm],
  i64: {
    const: (n: bigint) => [0x42, ...sleb64(n)],
    load: (offset = 0) => [0x29, 3, ...uleb(offset)],
    load32: (offset = 0) => [0x35, 2, ...uleb(offset)],
    load8: (offset = 0) => [0x31, 0, ...uleb(offset)],
    add: 0x7c,
    sub: 0x7d,
    mul: 0x7e,
    xor: 0x85,
    shrU: 0x88,
    rotl: 0x89,
    fromU32: 0xad,
  },
};

export interface WasmFunction {
  /** exported as */
  name: string;
  /** parameter types (op.i32, op.i64) */
  params: number[];
  /** result types (none or one) */
  results: number[];
  /** locals after the parameters, as [count, type] runs */
  locals: Array<[number, number]>;
  /** the body's opcodes, without the final `end` */
  body: number[];
}

/** A module exporting `fns` by name and its memory as `mem` (`pages` to start), or undefined where the
 * engine does not validate it (no SIMD). */
export function wasmModule(fns: WasmFunction[], pages: number): WasmModule | undefined {
  const section = (id: number, bytes: number[]) => [id, ...uleb(bytes.length), ...bytes];
  const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
  const str = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
  const code = (fn: WasmFunction) => {
    const body = [...vec(fn.locals.map(([n, t]) => [...uleb(n), t])), ...fn.body, op.end];
    return [...uleb(body.length), ...body];
  };
  const bytes = new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec(fns.map((f) => [0x60, ...vec(f.params.map((t) => [t])), ...vec(f.results.map((t) => [t]))]))),
    ...section(3, vec(fns.map((_, k) => uleb(k)))),
    ...section(5, [1, 0x00, ...uleb(pages)]),
    ...section(7, vec([...fns.map((f, k) => [...str(f.name), 0x00, ...uleb(k)]), [...str('mem'), 0x02, 0]])),
    ...section(10, vec(fns.map(code))),
  ]);
  return Wasm.validate(bytes) ? new Wasm.Module(bytes) : undefined;
}

/** A fresh instance of `mod`: its exports (functions by name) and its memory. */
export function instantiate<F>(mod: WasmModule): { fns: F; mem: WasmMemory } {
  const inst = new Wasm.Instance(mod, {});
  return { fns: inst.exports as F, mem: inst.exports.mem as WasmMemory };
}
