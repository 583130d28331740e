// Length-prefixed frames on a TCP stream, for the socket transport: a 4-byte little-endian payload
// length, a 1-byte type, a 4-byte tag (data frames: the ring's operation tag), the payload. The reader copies each payload once, into a buffer of its own
// (so data payloads of 4 KiB and more start 4-byte aligned and the ring reads them as float32 in place).

export const FrameType = { Data: 1, Ack: 2, Control: 3, Bye: 4 } as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

const HEADER = 9;
/** larger frames are a protocol error (a peer that is not a flowlm rank, or corruption) */
export const MAX_FRAME_BYTES = 256 << 20;

export function encodeFrame(type: FrameType, payload?: Uint8Array, tag = 0): Buffer {
  const len = payload?.byteLength ?? 0;
  const out = Buffer.allocUnsafe(HEADER + len);
  out.writeUInt32LE(len, 0);
  out.writeUInt8(type, 4);
  out.writeUInt32LE(tag >>> 0, 5);
  if (payload) out.set(payload, HEADER);
  return out;
}

export const controlFrame = (message: unknown): Buffer =>
  encodeFrame(FrameType.Control, Buffer.from(JSON.stringify(message)));

export interface Frame {
  type: FrameType;
  tag: number;
  payload: Buffer;
}

/** Incremental decoder: feed it the socket's chunks, it calls `onFrame` for each whole frame. */
export class FrameReader {
  private header = Buffer.alloc(HEADER);
  private headerFill = 0;
  private payload?: Buffer;
  private payloadFill = 0;
  private type: FrameType = FrameType.Data;
  private tag = 0;

  constructor(private readonly onFrame: (f: Frame) => void) {}

  /** Throws on a frame no rank sends (bad type or length). */
  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (!this.payload) {
        const n = Math.min(HEADER - this.headerFill, chunk.length - at);
        chunk.copy(this.header, this.headerFill, at, at + n);
        this.headerFill += n;
        at += n;
        if (this.headerFill < HEADER) return;
        const len = this.header.readUInt32LE(0),
          type = this.header.readUInt8(4);
        if (type < FrameType.Data || type > FrameType.Bye)
          throw new Error(`bad frame type ${type} (the peer is not a flowlm collective, or the stream is corrupt)`);
        if (len > MAX_FRAME_BYTES) throw new Error(`frame of ${len} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`);
        this.type = type as FrameType;
        this.tag = this.header.readUInt32LE(5);
        this.payload = len >= 4096 ? Buffer.allocUnsafeSlow(len) : Buffer.allocUnsafe(len);
        this.payloadFill = 0;
        this.headerFill = 0;
      }
      const n = Math.min(this.payload.length - this.payloadFill, chunk.length - at);
      chunk.copy(this.payload, this.payloadFill, at, at + n);
      this.payloadFill += n;
      at += n;
      if (this.payloadFill === this.payload.length) {
        const f = { type: this.type, tag: this.tag, payload: this.payload };
        this.payload = undefined;
        this.onFrame(f);
      }
    }
  }
}

/** The JSON body of a control frame, or undefined if it is not an object. */
export function parseControl(payload: Buffer): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(payload.toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
