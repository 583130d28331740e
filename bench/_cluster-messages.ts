// Messages per second through JetStream in the shapes clustered prep uses them (src/cluster), measured
// apart from any data work, against the bench's nats-server:
//  - publish: N small work-item messages (~300 bytes of JSON, as a WorkItem is) to a work-queue stream
//    on file storage, each with a message id (the server's dedup), 64 publishes in flight, as the
//    coordinator publishes a job's items;
//  - consume + ack: the same N pulled by a durable consumer with explicit acks (batches of pulls, one
//    ack each): what the server sustains for a pool of workers;
//  - worker loop: M items taken the way one `flowlm worker` slot takes them (next(), a done record
//    published to a limits stream, ackAck), one after the other: the per-item round trips a worker pays.
import { connect } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';

export interface MessageFigures {
  n: number;
  publish_msgs_per_s: number;
  consume_ack_msgs_per_s: number;
  worker_loop_n: number;
  worker_loop_items_per_s: number;
}

const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);

export async function measureMessages(url: string, n: number, loopN: number): Promise<MessageFigures> {
  const nc = await connect({ servers: url });
  try {
    const js = jetstream(nc, { timeout: 10_000 });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: 'BENCH_ITEMS',
      subjects: ['bench.items.>'],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      duplicate_window: 600_000 * 1e6,
    });
    await jsm.streams.add({ name: 'BENCH_DONE', subjects: ['bench.done.>'], storage: StorageType.File });
    const enc = new TextEncoder();
    const body = (i: number) =>
      enc.encode(
        JSON.stringify({
          job: 'bench',
          index: i,
          count: n,
          path: `/shared/corpus/part-${String(i).padStart(6, '0')}.jsonl.gz`,
          options: { out: '/shared/out', encoding: 'cl100k', seqLen: 1024, workers: 1, dedup: true },
        }),
      );

    const publishAll = async (subject: string, count: number) => {
      const WINDOW = 64;
      for (let s = 0; s < count; s += WINDOW)
        await Promise.all(
          Array.from({ length: Math.min(WINDOW, count - s) }, (_, k) =>
            js.publish(subject, body(s + k), { msgID: `${subject}:${s + k}` }),
          ),
        );
    };

    let t = performance.now();
    await publishAll('bench.items.a', n);
    const publishMs = performance.now() - t;

    await jsm.consumers.add('BENCH_ITEMS', {
      durable_name: 'a',
      filter_subject: 'bench.items.a',
      ack_policy: AckPolicy.Explicit,
      max_ack_pending: 1000,
    });
    t = performance.now();
    const consumer = await js.consumers.get('BENCH_ITEMS', 'a');
    let got = 0;
    const messages = await consumer.consume({ max_messages: 256 });
    for await (const m of messages) {
      m.ack();
      if (++got >= n) break;
    }
    await nc.flush();
    const consumeMs = performance.now() - t;
    await messages.close();

    // the worker's loop, one item at a time
    await publishAll('bench.items.b', loopN);
    await jsm.consumers.add('BENCH_ITEMS', {
      durable_name: 'b',
      filter_subject: 'bench.items.b',
      ack_policy: AckPolicy.Explicit,
      max_ack_pending: 64,
    });
    const c2 = await js.consumers.get('BENCH_ITEMS', 'b');
    t = performance.now();
    for (let i = 0; i < loopN; i++) {
      const m = await c2.next({ expires: 5000 });
      if (!m) throw new Error(`bench cluster: worker loop got no message ${i} of ${loopN}`);
      await js.publish('bench.done.b', enc.encode(JSON.stringify({ index: i, worker: 'bench', ms: 1 })));
      await m.ackAck({ timeout: 5000 });
    }
    const loopMs = performance.now() - t;
    const left = (await jsm.streams.info('BENCH_ITEMS')).state.messages;
    if (left !== 0) throw new Error(`bench cluster: ${left} work-queue messages left unacked`);
    return {
      n,
      publish_msgs_per_s: rate(n, publishMs),
      consume_ack_msgs_per_s: rate(n, consumeMs),
      worker_loop_n: loopN,
      worker_loop_items_per_s: rate(loopN, loopMs),
    };
  } finally {
    await nc.close();
  }
}
