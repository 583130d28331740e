// XXH64 as a WebAssembly function, for a module that already holds the bytes to hash in its memory
// (exact-key.ts normalises a document in place and hashes it there: handing the bytes to xxhash-wasm
// copied every document once more). Same values as xxhash-wasm's h64 for the same bytes and seed
// (the exact-key tests compare the two paths on every BMP character and on real text).
import { op, type WasmFunction } from './wasm.ts';

const P1 = 0x9E3779B185EBCA87n, P2 = 0xC2B2AE3D27D4EB4Fn, P3 = 0x165667B19E3779F9n, P4 = 0x85EBCA77C2B2AE63n, P5 = 0x27D4EB2F165667C5n;

/** xxh(at: i32, len: i32, seed: i64) -> i64: the hash of memory [at, at + len). */
export function xxh64Function(): WasmFunction {
  const { get, set, tee, add, leU, gtU, geU, brIf, br, end } = op;
  const c = op.const, k = op.i64.const, L = op.i64;
  // params: 0 at, 1 len, 2 seed; locals: 3 p, 4 end (i32); 5-8 v1-v4, 9 h (i64)
  const round = (v: number, offset: number) => [...get(v), ...get(3), ...L.load(offset), ...k(P2), L.mul, L.add, ...k(31n), L.rotl, ...k(P1), L.mul, ...set(v)];
  const merge = (v: number) => [...get(9), ...get(v), ...k(P2), L.mul, ...k(31n), L.rotl, ...k(P1), L.mul, L.xor, ...k(P1), L.mul, ...k(P4), L.add, ...set(9)];
  const mix = (shift: bigint, prime: bigint) => [...get(9), ...get(9), ...k(shift), L.shrU, L.xor, ...k(prime), L.mul, ...set(9)];
  const body = [
    ...get(0), ...get(1), add, ...set(4), ...get(0), ...set(3),
    // stripes of 32 bytes into four lanes
    ...get(1), ...c(32), geU, ...op.if,
    ...get(2), ...k(P1), L.add, ...k(P2), L.add, ...set(5),
    ...get(2), ...k(P2), L.add, ...set(6),
    ...get(2), ...set(7),
    ...get(2), ...k(P1), L.sub, ...set(8),
    ...op.loop,
    ...round(5, 0), ...round(6, 8), ...round(7, 16), ...round(8, 24),
    ...get(3), ...c(32), add, ...tee(3), ...c(32), add, ...get(4), leU, brIf, 0,
    end,
    ...get(5), ...k(1n), L.rotl, ...get(6), ...k(7n), L.rotl, L.add, ...get(7), ...k(12n), L.rotl, L.add, ...get(8), ...k(18n), L.rotl, L.add, ...set(9),
    ...merge(5), ...merge(6), ...merge(7), ...merge(8),
    op.else,
    ...get(2), ...k(P5), L.add, ...set(9),
    end,
    ...get(9), ...get(1), L.fromU32, L.add, ...set(9),
    // the rest: 8 bytes, then 4, then single bytes
    ...op.block, ...op.loop,
    ...get(3), ...c(8), add, ...get(4), gtU, brIf, 1,
    ...get(9), ...get(3), ...L.load(), ...k(P2), L.mul, ...k(31n), L.rotl, ...k(P1), L.mul, L.xor, ...k(27n), L.rotl, ...k(P1), L.mul, ...k(P4), L.add, ...set(9),
    ...get(3), ...c(8), add, ...set(3),
    br, 0,
    end, end,
    ...get(3), ...c(4), add, ...get(4), leU, ...op.if,
    ...get(9), ...get(3), ...L.load32(), ...k(P1), L.mul, L.xor, ...k(23n), L.rotl, ...k(P2), L.mul, ...k(P3), L.add, ...set(9),
    ...get(3), ...c(4), add, ...set(3),
    end,
    ...op.block, ...op.loop,
    ...get(3), ...get(4), geU, brIf, 1,
    ...get(9), ...get(3), ...L.load8(), ...k(P5), L.mul, L.xor, ...k(11n), L.rotl, ...k(P1), L.mul, ...set(9),
    ...get(3), ...c(1), add, ...set(3),
    br, 0,
    end, end,
    // avalanche
    ...mix(33n, P2), ...mix(29n, P3),
    ...get(9), ...get(9), ...k(32n), L.shrU, L.xor,
  ];
  return { name: 'xxh', params: [op.i32, op.i32, op.i64t], results: [op.i64t], locals: [[2, op.i32], [5, op.i64t]], body };
}
