// The head of the training chain in `stream` mode: packed rows flow straight from the data pipeline
// (read -> clean -> dedup -> tokenize -> pack) into training through a bounded shuffle buffer. The first
// `holdoutRows` rows are kept for validation; the others fill the buffer, and each optimizer step draws
// its global rows from it at random (seeded) and keeps this rank's share. This node opens its own
// credit scope of one step in flight: it draws step k only when step k - 1 has reached the end of the
// graph. Rows copied into the buffer are declared bounded state (their batch's credit returns); rows
// that arrive while it is full wait in their batch and keep its credit, so when training is slower than
// the tokenizer the readers stop at their budget: memory stays bounded by the readers' credits plus
// the buffer. No exact resume: checkpoints are written, but a stream cannot be replayed
// to its position (use `shards` mode, train/shard-batches, for that).
import { Schema, type RecordBatch } from 'apache-arrow';
import { Observable } from 'rxjs';
import { z } from 'zod';
import { defineOperator } from '../../src/core/operator.ts';
import { attach, release, ticketsOf, type Ticket } from '../../src/core/tickets.ts';
import { FlowError } from '../../src/core/errors.ts';
import type { PackedBatch } from '../../src/nn/objective/loss.ts';
import { packedBatchOf, packedOf, STEP_KEY, withMeta } from '../../src/nn/train/step-batches.ts';
import { joinRows, splitRows } from '../../src/nn/train/step-rows.ts';
import { Rng } from '../../src/runtime/rng.ts';
import { batchBytes } from '../../src/schema/build.ts';
import type { Packed } from '../../src/schema/columns.ts';
import { trainerField, trainerOf } from './trainer-field.ts';

const Config = z.object({
  trainer: trainerField,
  holdoutRows: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe('the first rows of the stream, kept out of training for validation'),
  shuffleBuffer: z
    .number()
    .int()
    .min(1)
    .default(1024)
    .describe("rows held and drawn from at random (at least two global steps' rows); 1: in arrival order"),
  seqLen: z.number().int().min(1).optional().describe('crop rows to this many input tokens; default: as they come'),
});

/** A row waiting for room in the buffer, and the input batch whose credit it keeps until then. */
interface Row {
  row: PackedBatch;
  from: Owner;
}
interface Owner {
  tickets: readonly Ticket[];
  left: number;
}

/** A row of its own (the input batch can go): ids, mask and document starts copied. */
const own = (r: PackedBatch): PackedBatch => ({
  inputIds: r.inputIds.slice(),
  batch: r.batch,
  seqLen: r.seqLen,
  ...(r.attentionMask ? { attentionMask: r.attentionMask.slice() } : {}),
  ...(r.docStarts ? { docStarts: Array.from(r.docStarts, (d) => Array.from(d)) } : {}),
});

export const streamBatches = defineOperator({
  id: 'train/stream-batches',
  description:
    'packed rows from the data pipeline into training through a bounded shuffle buffer, one optimizer step in ' +
    'flight (stream mode)',
  config: Config,
  placement: 'replica',
  credits: { maxInFlight: 1 },
  input: () => new Schema<Packed>([]),
  passthrough: false,
  output: () => new Schema<Packed>([]),
  make: (cfg, ctx) => (source: Observable<RecordBatch<Packed>>) =>
    new Observable<RecordBatch<Packed>>((out) => {
      const val: PackedBatch[] = [];
      const buffer: PackedBatch[] = []; // rows of its own, at most `room`
      const waiting: Row[] = []; // rows that found the buffer full, in arrival order
      let room = cfg.shuffleBuffer; // set to at least two global steps' rows once the trainer is open
      let inputDone = false;
      let ended = false;
      let pumping = false;
      let step = 0;
      const used = (r: Row) => {
        if (--r.from.left === 0) release(r.from.tickets);
      };
      const dropAll = () => {
        buffer.length = 0;
        for (const r of waiting.splice(0)) used(r);
      };
      /** rows into the buffer while there is room (their credit returns) */
      const absorb = () => {
        while (buffer.length < room && waiting.length > 0) {
          const r = waiting.shift()!;
          buffer.push(own(r.row));
          used(r);
        }
      };
      const fail = (err: unknown) => {
        if (ended) return;
        ended = true;
        dropAll();
        out.error(FlowError.wrap(ctx.nodeId, err));
      };
      const opened = (async () => {
        const trainer = await trainerOf(ctx, cfg.trainer);
        if (trainer.scope.resume)
          throw new Error(
            "stream mode cannot resume (a stream cannot be replayed to a checkpoint's position); use " +
              'train/shard-batches over shards for exact resume, or start a new runDir',
          );
        const rep = await trainer.open({
          train: `stream:${ctx.nodeId}`,
          holdoutRows: cfg.holdoutRows,
          seqLen: cfg.seqLen,
          shuffle: cfg.shuffleBuffer > 1,
        });
        const { batchSize: B, gradAccum: A } = rep.cfg;
        trainer.val = async function* () {
          for (let i = 0; i < val.length; i += B) yield joinRows(val.slice(i, i + B));
        };
        const group = trainer.dist.worldSize * A * B;
        room = Math.max(cfg.shuffleBuffer, 2 * group); // room for the step after this one: `last` is known
        return { trainer, rep, B, A, group, rng: new Rng(rep.cfg.seed) };
      })();
      opened.catch(fail);

      // draws steps while the buffer allows and credit is there; one pump at a time
      const pump = async () => {
        if (pumping || ended) return;
        pumping = true;
        try {
          const { rep, A, B, group, rng, trainer } = await opened;
          const lo = trainer.dist.rank * A * B;
          while (!ended) {
            absorb();
            if (!(inputDone ? buffer.length >= group : buffer.length >= room)) break;
            const wait = ctx.ledger?.acquire();
            if (wait) await wait;
            if (ended) break;
            if (rep.finished || ctx.signal.aborted) {
              end();
              break;
            }
            const drawn: PackedBatch[] = [];
            for (let k = 0; k < group; k++) {
              const i = cfg.shuffleBuffer > 1 ? rng.below(buffer.length) : 0;
              drawn.push(buffer[i]!);
              if (cfg.shuffleBuffer > 1) {
                buffer[i] = buffer[buffer.length - 1]!;
                buffer.pop();
              } else buffer.shift();
            }
            const mine = joinRows(drawn.slice(lo, lo + A * B));
            absorb();
            step = rep.step + 1;
            const last = inputDone && buffer.length + waiting.length < group;
            const batch = withMeta(packedBatchOf(mine), { [STEP_KEY]: { step, ...(last ? { last: true } : {}) } });
            if (ctx.ledger) attach(batch, [ctx.ledger.issue(batchBytes(batch))]);
            out.next(batch);
            if (last) {
              end();
              break;
            }
          }
          if (inputDone && !ended && buffer.length + waiting.length < (await opened).group) end();
        } catch (err) {
          fail(err);
        } finally {
          pumping = false;
        }
      };
      const end = () => {
        if (ended) return;
        ended = true;
        dropAll();
        sub.unsubscribe(); // the trainer has what it needs: upstream stops reading
        out.complete();
      };

      const sub = source.subscribe({
        next: (batch) => {
          if (ended) {
            release(ticketsOf(batch));
            return;
          }
          const rows = splitRows(packedOf(batch, cfg.seqLen), 1);
          const from: Owner = { tickets: ticketsOf(batch), left: rows.length };
          if (rows.length === 0) release(from.tickets);
          for (const row of rows) {
            if (val.length < cfg.holdoutRows) {
              val.push(own(row));
              used({ row, from });
            } else waiting.push({ row, from });
          }
          void pump();
        },
        error: (err: unknown) => {
          if (!ended) {
            ended = true;
            dropAll();
            out.error(err);
          }
        },
        complete: () => {
          inputDone = true;
          void pump();
        },
      });
      return () => {
        if (!ended) {
          ended = true;
          dropAll();
        }
        sub.unsubscribe();
      };
    }),
});
