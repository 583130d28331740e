// A SentencePiece `.model` file is a protobuf `ModelProto` (sentencepiece_model.proto). This reads the
// fields an encoder needs with a small hand-written wire-format reader, so no protobuf library is
// needed. Absent fields take the proto2 defaults of sentencepiece_model.proto.

/** SentencePiece.Type of sentencepiece_model.proto */
export const PieceType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

export interface SpmPiece {
  piece: string;
  score: number;
  type: number;
}

export interface SpmModel {
  pieces: SpmPiece[];
  trainer: {
    modelType: 'unigram' | 'bpe' | 'word' | 'char';
    byteFallback: boolean;
    treatWhitespaceAsSuffix: boolean;
    unkId: number;
    bosId: number;
    eosId: number;
    padId: number;
  };
  normalizer: {
    name: string;
    precompiledCharsmap: Uint8Array;
    addDummyPrefix: boolean;
    removeExtraWhitespaces: boolean;
    escapeWhitespaces: boolean;
  };
}

const MODEL_TYPES = { 1: 'unigram', 2: 'bpe', 3: 'word', 4: 'char' } as const;

/** Calls `field(number, wireType, reader)` for each field of the message in buf[start, end). */
class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
    readonly where: string,
  ) {
    this.pos = start;
  }

  varint(): number {
    let v = 0,
      mul = 1;
    for (;;) {
      if (this.pos >= this.end) throw new Error(`${this.where}: truncated varint at byte ${this.pos}`);
      const b = this.buf[this.pos++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  }

  /** A length-delimited field: [start, end) of its bytes. */
  bytes(): [number, number] {
    const n = this.varint();
    const s = this.pos;
    if (s + n > this.end) throw new Error(`${this.where}: field of ${n} bytes runs past the end at byte ${s}`);
    this.pos = s + n;
    return [s, s + n];
  }

  float(): number {
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`${this.where}: unsupported protobuf wire type ${wire} at byte ${this.pos}`);
  }

  each(field: (num: number, wire: number) => boolean): void {
    while (this.pos < this.end) {
      const key = this.varint();
      const num = Math.floor(key / 8),
        wire = key & 7;
      if (!field(num, wire)) this.skip(wire);
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses a SentencePiece ModelProto; `where` names the file in errors. */
export function parseSpmModel(buf: Uint8Array, where: string): SpmModel {
  const m: SpmModel = {
    pieces: [],
    trainer: {
      modelType: 'unigram',
      byteFallback: false,
      treatWhitespaceAsSuffix: false,
      unkId: 0,
      bosId: 1,
      eosId: 2,
      padId: -1,
    },
    normalizer: {
      name: '',
      precompiledCharsmap: new Uint8Array(0),
      addDummyPrefix: true,
      removeExtraWhitespaces: true,
      escapeWhitespaces: true,
    },
  };
  const top = new Reader(buf, 0, buf.length, where);
  const str = (r: Reader) => {
    const [s, e] = r.bytes();
    return utf8.decode(buf.subarray(s, e));
  };
  // int32 fields are varints where -1 is 2^64 - 1: read as a double, anything >= 2^31 is negative
  const int32 = (r: Reader) => {
    const v = r.varint();
    return v >= 2 ** 31 ? -1 : v;
  };
  top.each((num, wire) => {
    if (wire !== 2 || num < 1 || num > 3) return false;
    const [s, e] = top.bytes();
    const r = new Reader(buf, s, e, where);
    if (num === 1) {
      const p: SpmPiece = { piece: '', score: 0, type: PieceType.NORMAL };
      r.each((f, w) => {
        if (f === 1 && w === 2) p.piece = str(r);
        else if (f === 2 && w === 5) p.score = r.float();
        else if (f === 3 && w === 0) p.type = r.varint();
        else return false;
        return true;
      });
      m.pieces.push(p);
    } else if (num === 2) {
      const t = m.trainer;
      r.each((f, w) => {
        if (w !== 0) return false;
        if (f === 3) {
          const v = r.varint();
          const name = MODEL_TYPES[v as keyof typeof MODEL_TYPES];
          if (!name) throw new Error(`${where}: unknown SentencePiece model_type ${v}`);
          t.modelType = name;
        } else if (f === 24) t.treatWhitespaceAsSuffix = r.varint() !== 0;
        else if (f === 35) t.byteFallback = r.varint() !== 0;
        else if (f === 40) t.unkId = int32(r);
        else if (f === 41) t.bosId = int32(r);
        else if (f === 42) t.eosId = int32(r);
        else if (f === 43) t.padId = int32(r);
        else return false;
        return true;
      });
    } else {
      const n = m.normalizer;
      r.each((f, w) => {
        if (f === 1 && w === 2) n.name = str(r);
        else if (f === 2 && w === 2) {
          const [a, b] = r.bytes();
          n.precompiledCharsmap = buf.subarray(a, b);
        } else if (f === 3 && w === 0) n.addDummyPrefix = r.varint() !== 0;
        else if (f === 4 && w === 0) n.removeExtraWhitespaces = r.varint() !== 0;
        else if (f === 5 && w === 0) n.escapeWhitespaces = r.varint() !== 0;
        else return false;
        return true;
      });
    }
    return true;
  });
  if (m.pieces.length === 0) throw new Error(`${where}: no pieces; not a SentencePiece .model file`);
  return m;
}
