// A ring group in one thread whose transport counts the bytes each rank sends, for the wire-format
// tests: messages are copied into links of unbounded length, and with `misalign` delivered at an odd
// byte offset (as a socket frame may arrive), so the ring's copy-before-view paths run too.
import type { Collective } from '../../../src/runtime/collectives/collective.ts';
import { ringCollective, type RingOptions } from '../../../src/runtime/collectives/ring.ts';
import { Signal, type Transport } from '../../../src/runtime/collectives/transport.ts';

export interface CountingGroup {
  collectives: Collective[];
  /** bytes each rank has sent so far (payloads only) */
  sent: number[];
}

export function countingGroup(worldSize: number, opts: RingOptions & { misalign?: boolean } = {}): CountingGroup {
  const links = Array.from({ length: worldSize }, () => ({
    queue: [] as { bytes: Uint8Array; tag: number }[],
    changed: new Signal(),
  }));
  const sent = new Array<number>(worldSize).fill(0);
  const transport = (rank: number): Transport => ({
    rank,
    worldSize,
    maxMessageBytes: Number.MAX_SAFE_INTEGER,
    async send(bytes, tag) {
      sent[rank]! += bytes.byteLength;
      const shift = opts.misalign ? 1 : 0;
      const copy = new Uint8Array(bytes.byteLength + shift).subarray(shift);
      copy.set(bytes);
      const link = links[(rank + 1) % worldSize]!;
      link.queue.push({ bytes: copy, tag });
      link.changed.notify();
    },
    async recv(use) {
      const link = links[rank]!;
      while (link.queue.length === 0) await link.changed.next();
      const m = link.queue.shift()!;
      use(m.bytes, m.tag);
    },
    abort() {},
    async close() {},
  });
  return { collectives: Array.from({ length: worldSize }, (_, r) => ringCollective(transport(r), opts)), sent };
}
