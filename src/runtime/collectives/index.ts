// The collectives data-parallel training uses, and the transports that carry them. Every transport
// runs the same ring algorithms (ring.ts), so results are bit-identical whatever carries the bytes:
//   memoryGroup(W)                      all ranks in one thread (tests)
//   createThreadGroup(W) + threadCollective(handles[r])   worker threads, SharedArrayBuffer mailboxes
//   await socketCollective({ rank, worldSize, master })   processes, TCP (rank 0 listens on master)
export { CollectiveError, localCollective, shardRange, type Collective, type ReduceOp } from './collective.ts';
export { type CollectiveOptions, type WireDtype } from './bf16-wire.ts';
export { ringCollective, DEFAULT_SEGMENT_BYTES, type RingOptions } from './ring.ts';
export type { Transport } from './transport.ts';
export { memoryGroup } from './memory-transport.ts';
export {
  createThreadGroup,
  threadCollective,
  type ThreadGroup,
  type ThreadGroupOptions,
  type ThreadHandle,
} from './thread-transport.ts';
export { socketCollective, type SocketCollectiveOptions } from './socket-transport.ts';
