// The machine's own ceiling for bench workers' speedup: the same FNV rounds over the same texts in bare
// worker threads (no pool, no Arrow, texts handed over before timing), one thread doing all the texts
// against two threads doing half each. On a shared host two busy vCPUs rarely run as fast as one busy
// vCPU alone; this measures by how much in the same run, so the pool's speedup can be read against it.
import { Worker } from 'node:worker_threads';

const WORKER = `
const { parentPort } = require('node:worker_threads');
let texts = [], rounds = 1;
parentPort.on('message', (m) => {
  if (m.texts) { texts = m.texts; rounds = m.rounds; parentPort.postMessage('ready'); return; }
  let x = 0;
  for (const s of texts) {
    let h = 0x811c9dc5;
    for (let r = 0; r < rounds; r++) {
      h ^= r;
      for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    }
    x ^= h;
  }
  parentPort.postMessage(x);
});`;

const reply = (w: Worker) => new Promise<unknown>((res) => w.once('message', res));

/** Splits texts into two halves of about equal characters. */
function halves(texts: string[]): [string[], string[]] {
  const total = texts.reduce((n, t) => n + t.length, 0);
  let acc = 0;
  const cut = texts.findIndex((t) => (acc += t.length) >= total / 2);
  return [texts.slice(0, cut + 1), texts.slice(cut + 1)];
}

/** Median ms of one thread over all texts and of two threads over half each; rounds alternate. */
export async function rawThreadSpeedup(
  texts: string[],
  hashRounds: number,
  rounds: number,
): Promise<{ ms_1: number; ms_2: number; speedup_2_vs_1: number }> {
  const ws = [0, 1, 2].map(() => new Worker(WORKER, { eval: true }));
  try {
    const [a, b] = halves(texts);
    const load = async (w: Worker, t: string[]) => {
      w.postMessage({ texts: t, rounds: hashRounds });
      await reply(w);
    };
    await Promise.all([load(ws[0]!, texts), load(ws[1]!, a), load(ws[2]!, b)]);
    const go = async (set: Worker[]) => {
      const t0 = performance.now();
      await Promise.all(set.map((w) => (w.postMessage('go'), reply(w))));
      return performance.now() - t0;
    };
    await go([ws[0]!]); // JIT warm-up in every thread
    await go([ws[1]!, ws[2]!]);
    const one: number[] = [],
      two: number[] = [];
    for (let r = 0; r < rounds; r++) {
      if (r % 2) two.push(await go([ws[1]!, ws[2]!]));
      one.push(await go([ws[0]!]));
      if (!(r % 2)) two.push(await go([ws[1]!, ws[2]!]));
    }
    const med = (xs: number[]) => [...xs].sort((p, q) => p - q)[xs.length >> 1]!;
    const paired = med(one.map((t, i) => t / two[i]!));
    return { ms_1: Math.round(med(one)), ms_2: Math.round(med(two)), speedup_2_vs_1: +paired.toFixed(3) };
  } finally {
    await Promise.all(ws.map((w) => w.terminate()));
  }
}
