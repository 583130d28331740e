// flowlm's default tokenizer engine: a hand-written pre-tokenizer scanner per encoding family, then a
// bounded piece -> ids cache in front of a byte-level BPE merge over tiktoken's ranks. It gives the
// ids tiktoken gives (tests compare every encoding on real text) at several times its speed: the
// scanner runs well past the pattern regex, a cached piece costs one hash probe and allocates
// nothing, and under 2% of the pieces of real text need a merge.
import { BytePairEncoder } from './bpe.ts';
import { ENCODING, ranksData, rankTable, type EncodingName, type PieceEnd } from './encodings.ts';
import { IdBuffer } from './id-buffer.ts';
import { PieceCache, pieceHash } from './piece-cache.ts';
import type { RankTable } from './rank-table.ts';

export interface FlowlmEngineOptions {
  /** pieces per cache generation (default 65536: about 10 MB for the two generations) */
  cacheEntries?: number;
}

/** A scanner and rank table of its own, for a tokenizer loaded from a file (load/, hf/). */
export interface EngineParts {
  pieceEnd: PieceEnd;
  table: RankTable;
}

// encode's loop makes room in the id buffer only when a batch's ids outgrow their estimate: rarely,
// and maybe never before V8 optimizes the loop. Code optimized without feedback for that branch bails
// out whenever it is taken, and V8 re-enters the same on-stack-replacement code each time: a cluster
// worker's encode deoptimized 71 times in one job (node --trace-deopt), recompiled 8 times. So the
// first engine of each thread runs the branch once, in a throwaway engine, before anything is hot.
let growthSeen = false;
const GROWS = 'flowlm grows its id buffer';

export class FlowlmEngine {
  readonly engine = 'flowlm' as const;
  readonly cache: PieceCache;
  private readonly pieceEnd: PieceEnd;
  private readonly table: RankTable;
  private readonly bpe: BytePairEncoder;

  constructor(
    readonly encoding: EncodingName,
    opts: FlowlmEngineOptions = {},
    parts?: EngineParts,
  ) {
    this.pieceEnd = parts?.pieceEnd ?? ENCODING[encoding].pieceEnd;
    this.table = parts?.table ?? rankTable(encoding);
    this.bpe = new BytePairEncoder(this.table);
    this.cache = new PieceCache(opts.cacheEntries ?? 1 << 16);
    if (!growthSeen) {
      growthSeen = true;
      // (V8 keeps feedback only once a function has run a while: the first calls would record nothing;
      // a tokenizer file whose ranks lack these bytes fails on real text, not here)
      try {
        const warm = new FlowlmEngine(encoding, { cacheEntries: 1 }, parts);
        for (let k = 0; k < 32; k++) warm.encode(GROWS, new IdBuffer(16));
      } catch {}
    }
  }

  encode(text: string, out: IdBuffer): void {
    const n = text.length;
    const pieceEnd = this.pieceEnd;
    const cache = this.cache;
    let data = out.data;
    let pos = out.length;
    for (let i = 0; i < n; ) {
      const j = pieceEnd(text, i, n);
      // a piece has at most 3 UTF-8 bytes per UTF-16 unit, and at most one id per byte
      if (pos + 3 * (j - i) > data.length) {
        out.length = pos;
        out.reserve(3 * (j - i));
        data = out.data;
      }
      const h = pieceHash(text, i, j);
      const end = cache.lookup(text, i, j, h, data, pos);
      if (end >= 0) pos = end;
      else {
        const merged = this.bpe.encode(text, i, j, data, pos);
        cache.store(text, i, j, h, data.subarray(pos, merged));
        pos = merged;
      }
      i = j;
    }
    out.length = pos;
  }

  decode(ids: ArrayLike<number>): string {
    return decodeWith(this.table, this.encoding, ids);
  }

  dispose(): void {
    this.cache.clear();
  }
}

/** Text of `ids` (special tokens included) from a rank table. */
export function decodeWith(table: RankTable, encoding: EncodingName, ids: ArrayLike<number>): string {
  const specials = new Map(Object.entries(ranksData(encoding).special_tokens).map(([t, id]) => [id, t]));
  const utf8 = new TextDecoder();
  const chunks: Uint8Array[] = [];
  let text = '';
  const flush = () => {
    text += utf8.decode(Buffer.concat(chunks));
    chunks.length = 0;
  };
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k]!;
    const b = table.bytesOf(id);
    if (b) {
      chunks.push(b);
      continue;
    }
    const special = specials.get(id);
    if (special === undefined) throw new Error(`decode: id ${id} (position ${k}) is not a token of ${encoding}`);
    flush();
    text += special;
  }
  flush();
  return text;
}
