// The head helper thread (see head-helper.ts): its own tfjs wasm backend, woken by a message per head
// pass, taking chunks of rows from the shared counter until none is left, then reporting through the
// shared buffers and the state word the main thread waits on.
import * as tf from '@tensorflow/tfjs';
import { parentPort } from 'node:worker_threads';
import { initBackend } from '../backend/backend.ts';
import { COUNTER, DONE, FAILED, STATE, type HeadBuffers } from './head-helper.ts';
import { disposeBlocks, headBlocks, headRows } from './head-rows.ts';

interface JobMessage {
  n: number;
  d: number;
  v: number;
  eps: number;
  hasWMean: boolean;
  rowsPerChunk: number;
  vocabBlock: number;
  grad: boolean;
  vocabMajor: boolean;
  bufs: HeadBuffers;
}

function runJob(m: JobMessage): void {
  const { n, d, v, bufs: b } = m;
  const chunks = Math.ceil(n / m.rowsPerChunk);
  b.done.fill(0, 0, chunks);
  // take a chunk before loading anything: when the main thread has done them all, answer at once
  let pending = Atomics.add(b.ctrl, COUNTER, 1);
  if (pending >= chunks) return; // no chunk done
  tf.tidy(() => {
    const h = tf.tensor2d(b.h.subarray(0, n * d), [n, d]);
    const w = tf.tensor2d(b.w.subarray(0, v * d), [v, d]);
    const blocks = m.vocabMajor ? [] : headBlocks(w, m.vocabBlock, b.w.subarray(0, v * d));
    const out = m.grad
      ? { loss: b.loss, dh: b.dh, dwT: b.dwT, dwTSlots: true, vocabMajor: m.vocabMajor }
      : { loss: b.loss, vocabMajor: m.vocabMajor };
    headRows(
      {
        h,
        w,
        blocks,
        targets: b.targets.subarray(0, n),
        scale: b.scale.subarray(0, n),
        eps: m.eps,
        wMean: m.hasWMean ? b.wMean.subarray(0, d) : undefined,
        rowsPerChunk: m.rowsPerChunk,
        wValues: b.w.subarray(0, v * d),
        nextChunk: () => {
          const k = pending >= 0 ? pending : Atomics.add(b.ctrl, COUNTER, 1);
          pending = -1;
          if (k < chunks) b.done[k] = 1;
          return k;
        },
      },
      out,
    );
    disposeBlocks(blocks);
  });
}

const port = parentPort;
if (!port) throw new Error('head-worker.ts runs as a worker thread started by head-helper.ts');
await initBackend({ backend: 'wasm', announce: false, headThread: false });
port.on('message', (m: JobMessage) => {
  const b = m.bufs;
  try {
    runJob(m);
    Atomics.store(b.ctrl, STATE, DONE);
  } catch (err) {
    const msg = new TextEncoder().encode(err instanceof Error ? (err.stack ?? err.message) : String(err));
    b.error.fill(0);
    b.error.set(msg.subarray(0, b.error.length));
    Atomics.store(b.ctrl, STATE, FAILED);
  }
  Atomics.notify(b.ctrl, STATE);
});
port.postMessage('ready');
