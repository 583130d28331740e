// The WebAssembly function behind exact-dedup keys (exact-key.ts): norm(at, len, flags) normalises a
// document's UTF-8 bytes in place in the module's memory, and xxh (xxh64-wasm.ts) hashes the result.
// Assembled by hand (wasm.ts): the entry and a 16-byte SIMD path for printable ASCII here, the byte
// path for everything else in exact-norm-bytes.ts.
import { op, wasmModule, type WasmFunction, type WasmModule } from './wasm.ts';
import { xxh64Function } from './xxh64-wasm.ts';
import { bytePath } from './exact-norm-bytes.ts';

/** norm(at, len, flags) -> normalised length (written from `at`, in place), or -1: use the string path.
 * flags: 1 lower-case, 2 collapse whitespace and trim. */
export type NormFn = (at: number, len: number, flags: number) => number;
/** xxh(at, len, seed): XXH64 of [at, at + len) (xxh64-wasm.ts). */
export type HashFn = (at: number, len: number, seed: bigint) => bigint;

/** The module's functions: norm and xxh. */
export function normFunctions(): WasmFunction[] {
  const { get, set, ne, gtU, geU, add, sub, and, shl, shrU, brIf, br, end } = op;
  const c = op.const;
  const v = (code: number, ...imm: number[]) => op.simd(code, ...imm),
    splat = (n: number) => [...c(n), ...v(0x0f)];
  const [LOAD, STORE, SHUFFLE, EQ, LT_S, LT_U, AND, OR, ANY, SUB, SELECT] = [
    v(0x00, 0, 0),
    v(0x0b, 0, 0),
    0x0d,
    0x23,
    0x25,
    0x26,
    0x4e,
    0x50,
    0x53,
    0x71,
    0x52,
  ];
  const BEFORE = Array.from({ length: 16 }, (_, k) => 15 + k); // lane 15 of the first vector, then 0-14 of the second
  // params: 0 at, 1 len, 2 flags; i32 locals: 3 i, 4 end, 5 o, 6 c, 7 pend, 8 cp, 9 n, 10 cls, 11 k,
  // 12 lower, 13 ws, 14 scalar until; v128 locals: 15 chunk, 16 lower-case bit (0x20 or 0 in each lane),
  // 17 the chunk before
  // the vector on the stack with tab, LF, VT, FF and CR (9-13) made spaces (scratch: local 18)
  const spaced = [
    ...set(18),
    ...splat(32),
    ...get(18),
    ...get(18),
    ...splat(9),
    ...v(SUB),
    ...splat(5),
    ...v(LT_U),
    ...v(SELECT),
  ];
  const body = [
    ...get(0),
    ...set(3),
    ...get(0),
    ...get(1),
    add,
    ...set(4),
    ...get(0),
    ...set(5),
    ...get(2),
    ...c(1),
    and,
    ...set(12),
    ...get(2),
    ...c(1),
    shrU,
    ...c(1),
    and,
    ...set(13),
    ...get(12),
    ...c(5),
    shl,
    ...v(0x0f),
    ...set(16),
    ...op.block,
    ...op.loop,
    ...get(3),
    ...get(4),
    geU,
    brIf,
    1,
    // 16 bytes at a time while they are printable ASCII or ASCII whitespace with no two in a row
    // (prose, mostly), entered after a non-space (nothing pending, output begun); a chunk that is not
    // goes to the byte path. A final space is the pending one.
    ...get(13),
    ...get(7),
    op.eqz,
    and,
    ...get(5),
    ...get(0),
    ne,
    and,
    ...get(3),
    ...get(14),
    geU,
    and,
    ...op.if,
    // the byte before each chunk comes from the chunk before, in a register: loaded from memory it sat
    // right behind the store of that chunk, a store-to-load stall in every step
    ...get(3),
    ...c(16),
    sub,
    ...LOAD,
    ...spaced,
    ...set(17),
    ...op.block,
    ...op.loop,
    ...get(3),
    ...c(16),
    add,
    ...get(4),
    gtU,
    brIf,
    1,
    ...get(3),
    ...LOAD,
    ...spaced,
    ...set(15),
    ...get(15),
    ...splat(0x20),
    ...v(LT_S),
    ...get(15),
    ...splat(32),
    ...v(EQ),
    ...get(17),
    ...get(15),
    ...v(SHUFFLE, ...BEFORE),
    ...splat(32),
    ...v(EQ),
    ...v(AND),
    ...v(OR),
    ...v(ANY),
    brIf,
    1,
    ...get(5),
    ...get(15),
    ...get(15),
    ...splat(0x41),
    ...v(SUB),
    ...splat(26),
    ...v(LT_U),
    ...get(16),
    ...v(AND),
    ...v(OR),
    ...STORE,
    ...get(5),
    ...c(16),
    add,
    ...set(5),
    ...get(3),
    ...c(16),
    add,
    ...set(3),
    ...get(15),
    ...set(17),
    br,
    0,
    end,
    end,
    ...bytePath(),
  ];
  return [
    {
      name: 'norm',
      params: [op.i32, op.i32, op.i32],
      results: [op.i32],
      locals: [
        [12, op.i32],
        [4, op.v128],
      ],
      body,
    },
    xxh64Function(),
  ];
}

/** The compiled module, or undefined where the engine does not validate it (no SIMD). */
export const normModule = (): WasmModule | undefined => wasmModule(normFunctions(), 2);
