// The exact-dedup key of a document: the 64-bit xxhash of its text lower-cased and with runs of
// whitespace collapsed to one space, trimmed (normalizeForExact). Taken from a string it costs a
// UTF-8 decode, two rebuilt strings and an encode per document, the main thread's largest cost in
// `flowlm prep` after the tokenizer's. ExactKeys takes the same key straight from the Arrow column's
// UTF-8 bytes, normalised in place by a small WebAssembly function. What that function cannot settle
// byte by byte (a non-ASCII letter that lower-cases, invalid UTF-8, punctuation removal) it hands back,
// and the string path decides: both paths give the same key for every text (tested on every BMP
// character).
import type { Data, Utf8 } from 'apache-arrow';
import xxhash, { type XXHashAPI } from 'xxhash-wasm';
import { PAGE, instantiate, op, wasmModule, type WasmMemory, type WasmModule } from './wasm.ts';
import { xxh64Function } from './xxh64-wasm.ts';

export interface ExactNorm {
  lowercase: boolean;
  whitespace: boolean;
  punctuation: boolean;
}

/** The text the hash is taken of. */
export function normalizeForExact(text: string, cfg: ExactNorm): string {
  let t = cfg.lowercase ? text.toLowerCase() : text;
  if (cfg.punctuation) t = t.replace(/\p{P}+/gu, '');
  // only runs that change (a single space stays): as \s+ -> ' ', but ~20x faster on prose, where
  // replacing every single space would rebuild the string word by word
  if (cfg.whitespace) t = t.replace(/\s{2,}|[^\S ]/g, ' ').trim();
  return t;
}

let api: Promise<XXHashAPI> | undefined;
/** xxhash-wasm instantiates its WebAssembly module asynchronously, once per thread. */
export const xxhashApi = (): Promise<XXHashAPI> => (api ??= xxhash());

// Character classes, one byte per BMP code point at the start of the wasm memory.
const PLAIN = 0,
  SPACE = 1,
  CASED = 2,
  UPPER_ASCII = 3;

/** Classes as this engine's String#toLowerCase and \s see them (built once, ~3 ms). */
function classTable(): Uint8Array {
  const t = new Uint8Array(0x10000);
  for (let b = 0; b < 0x100; b++) {
    if (b >= 0xd8 && b < 0xe0) continue; // surrogates: never decoded from valid UTF-8
    const s = String.fromCharCode(...Array.from({ length: 256 }, (_, k) => (b << 8) | k));
    if (s.toLowerCase() === s) continue;
    for (let k = 0; k < 256; k++) {
      const ch = s[k]!;
      if (ch.toLowerCase() !== ch) t[(b << 8) | k] = CASED;
    }
  }
  const all =
    String.fromCharCode(...Array.from({ length: 0xd800 }, (_, k) => k)) +
    String.fromCharCode(...Array.from({ length: 0x2000 }, (_, k) => 0xe000 + k));
  for (const m of all.matchAll(/\s/g)) t[m[0].charCodeAt(0)] = SPACE;
  for (let c = 0x41; c <= 0x5a; c++) t[c] = UPPER_ASCII;
  return t;
}

/** norm(at, len, flags) -> normalised length (written from `at`, in place), or -1: use the string path.
 * flags: 1 lower-case, 2 collapse whitespace and trim. */
type NormFn = (at: number, len: number, flags: number) => number;
/** xxh(at, len, seed): XXH64 of [at, at + len) (xxh64-wasm.ts). */
type HashFn = (at: number, len: number, seed: bigint) => bigint;

function normModule(): WasmModule | undefined {
  const { get, set, tee, load8, store8, eq, ne, ltU, gtU, geU, add, sub, and, or, shl, shrU, brIf, br, end } = op;
  const c = op.const,
    fail = [...c(-1), op.return];
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
    // the byte path takes the next 16 bytes (the chunk refused, or the tail)
    ...get(3),
    ...c(16),
    add,
    ...set(14),
    ...get(5),
    ...c(1),
    sub,
    ...load8(),
    ...c(32),
    eq,
    ...op.if,
    ...get(5),
    ...c(1),
    sub,
    ...set(5),
    ...c(1),
    ...set(7),
    end,
    br,
    1,
    end,
    ...get(3),
    ...load8(),
    ...tee(6),
    ...set(8),
    ...c(1),
    ...set(9),
    ...get(6),
    ...c(0x80),
    geU,
    ...op.if,
    // a multi-byte sequence: n bytes from its lead byte, validated (no overlong, no surrogate, <= U+10FFFF)
    ...get(6),
    ...c(0xc2),
    ltU,
    ...get(6),
    ...c(0xf5),
    geU,
    or,
    ...op.if,
    ...fail,
    end,
    ...c(2),
    ...get(6),
    ...c(0xe0),
    geU,
    add,
    ...get(6),
    ...c(0xf0),
    geU,
    add,
    ...set(9),
    ...get(3),
    ...get(9),
    add,
    ...get(4),
    gtU,
    ...op.if,
    ...fail,
    end,
    ...get(6),
    ...c(0x7f),
    ...get(9),
    shrU,
    and,
    ...set(8),
    ...c(1),
    ...set(11),
    ...op.loop,
    ...get(3),
    ...get(11),
    add,
    ...load8(),
    ...tee(6),
    ...c(0xc0),
    and,
    ...c(0x80),
    ne,
    ...op.if,
    ...fail,
    end,
    ...get(8),
    ...c(6),
    shl,
    ...get(6),
    ...c(0x3f),
    and,
    or,
    ...set(8),
    ...get(11),
    ...c(1),
    add,
    ...tee(11),
    ...get(9),
    ltU,
    brIf,
    0,
    end,
    ...get(9),
    ...c(3),
    eq,
    ...get(8),
    ...c(0x800),
    ltU,
    and,
    ...get(9),
    ...c(4),
    eq,
    ...get(8),
    ...c(0x10000),
    ltU,
    and,
    or,
    ...get(8),
    ...c(0x10ffff),
    gtU,
    or,
    ...get(8),
    ...c(-0x800),
    and,
    ...c(0xd800),
    eq,
    or,
    ...op.if,
    ...fail,
    end,
    end,
    // its class: the table for the BMP; above it, cased scripts lie below U+1F000 (emoji, symbols and
    // CJK above are neither cased nor spaces)
    ...get(8),
    ...c(0x10000),
    ltU,
    ...op.if,
    ...get(8),
    ...load8(),
    ...set(10),
    op.else,
    ...get(8),
    ...c(0x1f000),
    ltU,
    ...c(1),
    shl,
    ...set(10),
    end,
    ...get(10),
    ...c(SPACE),
    eq,
    ...get(13),
    and,
    ...op.if,
    ...get(5),
    ...get(0),
    ne,
    ...set(7),
    ...get(3),
    ...get(9),
    add,
    ...set(3),
    br,
    1,
    end,
    ...get(10),
    ...c(CASED),
    eq,
    ...get(12),
    and,
    ...op.if,
    ...fail,
    end,
    ...get(7),
    ...op.if,
    ...get(5),
    ...c(32),
    ...store8(),
    ...get(5),
    ...c(1),
    add,
    ...set(5),
    ...c(0),
    ...set(7),
    end,
    ...get(9),
    ...c(1),
    eq,
    ...op.if,
    ...get(5),
    ...get(6),
    ...get(10),
    ...c(UPPER_ASCII),
    eq,
    ...get(12),
    and,
    ...c(5),
    shl,
    or,
    ...store8(),
    ...get(5),
    ...c(1),
    add,
    ...set(5),
    op.else,
    ...c(0),
    ...set(11),
    ...op.loop,
    ...get(5),
    ...get(11),
    add,
    ...get(3),
    ...get(11),
    add,
    ...load8(),
    ...store8(),
    ...get(11),
    ...c(1),
    add,
    ...tee(11),
    ...get(9),
    ltU,
    brIf,
    0,
    end,
    ...get(5),
    ...get(9),
    add,
    ...set(5),
    end,
    ...get(3),
    ...get(9),
    add,
    ...set(3),
    br,
    0,
    end,
    end,
    ...get(5),
    ...get(0),
    sub,
  ];
  return wasmModule(
    [
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
    ],
    2,
  );
}

let compiled: WasmModule | null | undefined;
let table: Uint8Array | undefined;

/** Keys of one normalisation config, for documents given as UTF-8 bytes. */
export class ExactKeys {
  private readonly norm?: NormFn;
  private readonly hash?: HashFn;
  private readonly mem?: WasmMemory;
  private bytes?: Uint8Array;
  private readonly flags: number;
  /** documents the byte path handed to the string path (for tests and stats) */
  fallbacks = 0;

  constructor(
    private readonly cfg: ExactNorm,
    private readonly h: XXHashAPI,
    private readonly seed: bigint,
    useWasm = true,
  ) {
    this.flags = (cfg.lowercase ? 1 : 0) | (cfg.whitespace ? 2 : 0);
    if (compiled === undefined) compiled = normModule() ?? null;
    // punctuation removal needs \p{P}: the string path does it
    if (!useWasm || cfg.punctuation || !compiled) return;
    const { fns, mem } = instantiate<{ norm: NormFn; xxh: HashFn }>(compiled);
    this.norm = fns.norm;
    this.hash = fns.xxh;
    this.mem = mem;
    this.bytes = new Uint8Array(mem.buffer);
    this.bytes.set((table ??= classTable()));
  }

  /** The key of row `r` of a UTF-8 column (which must be valid at r). */
  key(data: Data<Utf8>, r: number): bigint {
    const from = data.valueOffsets[r]!,
      to = data.valueOffsets[r + 1]!;
    const src = data.values.subarray(from, to);
    // a leading byte order mark: the string decoder drops it, so the string path decides
    const bom = src.length >= 3 && src[0] === 0xef && src[1] === 0xbb && src[2] === 0xbf;
    if (this.norm && this.mem && !bom) {
      // at the text's own offset mod 8: a copy out of shared memory is word by word only then
      // (src/runtime/shared-copy.ts), byte by byte otherwise
      const at = PAGE + (src.byteOffset & 7);
      const need = at + src.length;
      if (this.bytes!.length < need) {
        this.mem.grow(Math.ceil((need - this.bytes!.length) / PAGE));
        this.bytes = new Uint8Array(this.mem.buffer);
      }
      this.bytes!.set(src, at);
      const n = this.norm(at, src.length, this.flags);
      // (wasm's i64 comes back signed; xxhash-wasm's keys are unsigned)
      if (n >= 0) return BigInt.asUintN(64, this.hash!(at, n, this.seed));
      this.fallbacks++;
    }
    return this.h.h64(normalizeForExact(utf8.decode(src), this.cfg), this.seed);
  }
}

const utf8 = new TextDecoder();
