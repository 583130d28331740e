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
import { PAGE, instantiate, type WasmMemory, type WasmModule } from './wasm.ts';
import { classTable } from './exact-norm-bytes.ts';
import { normModule, type HashFn, type NormFn } from './exact-norm-wasm.ts';

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
