// One TCP connection between two ranks, framed (frames.ts). Frames that arrive before anyone listens
// are kept, so nothing a fast peer sends during the rendezvous is lost; the end of the connection is
// reported once, with why (the peer said goodbye, or the socket closed or failed).
import { connect, type Socket } from 'node:net';
import { FrameReader, FrameType, controlFrame, encodeFrame, parseControl, type Frame } from './frames.ts';

export interface Ended {
  clean: boolean;
  why: string;
}

export class Conn {
  private readonly queue: Frame[] = [];
  private handler?: (f: Frame) => void;
  private endHandler?: (e: Ended) => void;
  private lastError?: Error;
  private byeSeen = false;
  /** set once the connection is gone */
  ended?: Ended;

  constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 5000);
    const reader = new FrameReader((f) => {
      if (f.type === FrameType.Bye) {
        this.byeSeen = true;
        return;
      }
      if (this.handler) this.handler(f);
      else this.queue.push(f);
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (err) {
        socket.destroy(err instanceof Error ? err : new Error(String(err)));
      }
    });
    socket.on('error', (err) => {
      this.lastError = err;
    });
    socket.on('close', () => {
      const e = this.lastError as (Error & { code?: string }) | undefined;
      this.ended = this.byeSeen
        ? { clean: true, why: 'closed its collective' }
        : {
            clean: false,
            why: e
              ? `connection ${e.code === 'ECONNRESET' ? 'reset' : 'failed'}: ${e.code ?? e.message}`
              : 'connection closed',
          };
      this.endHandler?.(this.ended);
    });
  }

  /** Routes every frame, queued ones first, to `handler`. */
  onFrame(handler: (f: Frame) => void): void {
    this.handler = handler;
    while (this.queue.length > 0 && this.handler === handler) handler(this.queue.shift()!);
  }

  /** Calls `handler` when the connection ends (at once if it has). */
  onEnd(handler: (e: Ended) => void): void {
    this.endHandler = handler;
    if (this.ended) handler(this.ended);
  }

  /** The next control message (rendezvous); rejects if the connection ends or sends something else first. */
  nextControl(): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      this.onEnd((e) => reject(new Error(`the connection ended before the handshake (${e.why})`)));
      this.onFrame((f) => {
        this.handler = undefined;
        const m = f.type === FrameType.Control ? parseControl(f.payload) : undefined;
        if (m) resolve(m);
        else reject(new Error(`expected a handshake message, got a frame of type ${f.type}`));
      });
    });
  }

  write(frame: Buffer): void {
    if (!this.socket.destroyed && !this.socket.writableEnded) this.socket.write(frame);
  }
  control(message: unknown): void {
    this.write(controlFrame(message));
  }

  /** Says goodbye (so the peer does not take the close for a failure) and closes; waits up to `ms`. */
  async close(ms = 2000): Promise<void> {
    if (this.ended) return;
    const done = new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
    });
    this.socket.end(encodeFrame(FrameType.Bye));
    const timer = setTimeout(() => this.socket.destroy(), ms);
    await done;
    clearTimeout(timer);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Connects to `host:port`, retrying refused or unreachable attempts until `deadline` (ms since epoch). */
export async function connectRetry(host: string, port: number, deadline: number): Promise<Conn> {
  let last: Error | undefined;
  for (;;) {
    try {
      const sock = await new Promise<Socket>((resolve, reject) => {
        const s = connect({ host, port });
        const t = setTimeout(
          () => s.destroy(new Error('connect timed out')),
          Math.max(1, Math.min(5000, deadline - Date.now())),
        );
        s.once('connect', () => {
          clearTimeout(t);
          s.removeListener('error', reject);
          resolve(s);
        });
        s.once('error', (e) => {
          clearTimeout(t);
          reject(e);
        });
      });
      return new Conn(sock);
    } catch (err) {
      last = err instanceof Error ? err : new Error(String(err));
      if (Date.now() + 200 >= deadline)
        throw new Error(`could not connect to ${host}:${port}: ${(last as { code?: string }).code ?? last.message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
