// Credit accounting through the helpers (DESIGN.md §4): each batch a source emits holds one credit
// until every piece of it is released; the helpers pass, share, hold and release tickets so the
// ledger returns to exactly zero and no ticket is released twice.
import { describe, expect, it } from 'vitest';
import { Int32, type RecordBatch } from 'apache-arrow';
import { Subject, bufferCount, type Observable, delay, filter, lastValueFrom, map, toArray } from 'rxjs';
import { filterRows } from '../../src/core/filter-rows.ts';
import { foreign } from '../../src/core/foreign.ts';
import { mapBatch } from '../../src/core/map-batch.ts';
import { operate } from '../../src/core/operate.ts';
import { Ledger, attach, release, releaseBatch, ticketsOf } from '../../src/core/tickets.ts';
import { batchBytes, withColumns, type Doc } from '../../src/schema/index.ts';
import { docBatch, mobyParagraphs, textsOf } from '../fixtures/moby.ts';

const paras = mobyParagraphs(3);
const big = { maxInFlight: 1000, maxInFlightBytes: 1e12 };

/** A source's ledger and batches of real paragraphs; `send(i)` issues batch i its ticket and sends
 * it, as a pull source does. */
function sourced(n: number, rows = 4) {
  const ledger = new Ledger('src', big);
  const batches = Array.from({ length: n }, (_, i) => docBatch(paras.slice(i * rows, i * rows + rows), `s${i}-`));
  const src = new Subject<RecordBatch<Doc>>();
  const send = (...idx: number[]) => {
    for (const i of idx) {
      attach(batches[i]!, [ledger.issue(batchBytes(batches[i]!))]);
      src.next(batches[i]!);
    }
  };
  const sendAll = () => send(...batches.keys());
  return { ledger, batches, src, send, sendAll };
}

/** Subscribes, keeps every output without releasing it (a sink that has not written yet). */
function collect<T>(out: Observable<T>): T[] {
  const got: T[] = [];
  out.subscribe({
    next: (v) => got.push(v),
    error: (e) => {
      throw e;
    },
  });
  return got;
}

const upper = (b: RecordBatch<Doc>) =>
  docBatch(
    textsOf(b).map((t) => t!.toUpperCase()),
    'u',
  );

describe('mapBatch', () => {
  it('passes each input ticket to its output: the credit returns when the output is released', () => {
    const { ledger, batches, src, sendAll } = sourced(3);
    const got = collect(src.pipe(mapBatch(upper)));
    sendAll();
    expect(ledger.inFlight).toBe(3);
    got.forEach((o, i) => expect(ticketsOf(o)[0]).toBe(ticketsOf(batches[i]!)[0]));
    releaseBatch(got[0]!);
    expect(ledger.inFlight).toBe(2);
    got.slice(1).forEach(releaseBatch);
    expect(ledger.inFlight).toBe(0);
    expect(ledger.inFlightBytes).toBe(0);
  });

  it('async with concurrency: tickets follow their batches', async () => {
    const { ledger, batches, src, sendAll } = sourced(5);
    const done = lastValueFrom(
      src.pipe(
        mapBatch(
          async (b: RecordBatch<Doc>, i) => {
            await new Promise((r) => setTimeout(r, (5 - i) * 3));
            return upper(b);
          },
          { concurrency: 3 },
        ),
        toArray(),
      ),
    );
    sendAll();
    src.complete();
    const results = await done;
    results.forEach((o, i) => expect(ticketsOf(o)[0]).toBe(ticketsOf(batches[i]!)[0]));
    expect(ledger.inFlight).toBe(5);
    results.forEach(releaseBatch);
    expect(ledger.inFlight).toBe(0);
  });
});

describe('filterRows', () => {
  it('a partly kept batch carries the credit on; a batch dropped whole releases it at once', () => {
    const { ledger, batches, src, send } = sourced(3);
    // keep the even rows of batch 0, drop batch 1 whole, keep batch 2 whole
    const got = collect(
      src.pipe(filterRows<Doc>((b, r) => (b === batches[1] ? 'unwanted' : b === batches[0] ? r % 2 === 0 : true))),
    );
    send(0);
    expect(ledger.inFlight).toBe(1);
    send(1);
    expect(got.length).toBe(1);
    expect(ledger.inFlight).toBe(1); // batch 1's credit already back
    send(2);
    expect(got[1]).toBe(batches[2]);
    expect(got[0]!.numRows).toBe(2);
    expect(ticketsOf(got[0]!)[0]).toBe(ticketsOf(batches[0]!)[0]);
    got.forEach(releaseBatch);
    expect(ledger.inFlight).toBe(0);
  });
});

describe('operate', () => {
  it('a split shares one credit: it returns only after every piece is released', () => {
    const { ledger, batches, src, send } = sourced(1, 6);
    const got = collect(
      src.pipe(
        operate<Doc, Doc>((b, emit) => {
          for (let r = 0; r < b.numRows; r += 2) emit(b.slice(r, r + 2));
        }),
      ),
    );
    send(0);
    expect(got.length).toBe(3);
    expect(ticketsOf(batches[0]!)[0]!.refs).toBe(3);
    releaseBatch(got[0]!);
    releaseBatch(got[2]!);
    expect(ledger.inFlight).toBe(1);
    releaseBatch(got[1]!);
    expect(ledger.inFlight).toBe(0);
  });

  it("a merge holds all its inputs' credits until the merged batch is released", () => {
    const { ledger, src, send } = sourced(5, 3);
    let held: RecordBatch<Doc>[] = [];
    const merged = () => {
      const out = docBatch(
        held.flatMap((b) => textsOf(b).map(String)),
        'm',
      );
      held = [];
      return out;
    };
    const got = collect(
      src.pipe(
        operate<Doc, Doc>(
          (b, emit) => {
            held.push(b);
            if (held.length === 3) emit(merged());
          },
          {
            flush: (emit) => {
              if (held.length > 0) emit(merged());
            },
          },
        ),
      ),
    );
    send(0);
    send(1);
    expect(got.length).toBe(0);
    expect(ledger.inFlight).toBe(2); // held, not released
    send(2);
    expect(ticketsOf(got[0]!).length).toBe(3);
    send(3);
    send(4);
    expect(ledger.inFlight).toBe(5);
    releaseBatch(got[0]!);
    expect(ledger.inFlight).toBe(2);
    src.complete(); // flush emits the last two together
    expect(ticketsOf(got[1]!).map((t) => t.refs)).toEqual([1, 1]);
    releaseBatch(got[1]!);
    expect(ledger.inFlight).toBe(0);
  });

  it('inputs that produce nothing are released when the stream completes', () => {
    const { ledger, src, sendAll } = sourced(2);
    collect(src.pipe(operate<Doc, Doc>(() => undefined)));
    sendAll();
    expect(ledger.inFlight).toBe(2);
    src.complete();
    expect(ledger.inFlight).toBe(0);
  });

  it("'absorb' releases each input when consumed; outputs carry only the current input's ticket", () => {
    const { ledger, batches, src, send } = sourced(4);
    const kept: string[] = [];
    const got = collect(
      src.pipe(
        operate<Doc, Doc>(
          (b, emit, i) => {
            kept.push(...textsOf(b).map(String)); // bounded state of the operator's own
            if (i === 2) emit(docBatch(kept.slice(-2), 'x'));
          },
          { state: 'absorb', flush: (emit) => emit(docBatch(kept, 'all')) },
        ),
      ),
    );
    send(0);
    send(1);
    expect(ledger.inFlight).toBe(0);
    send(2);
    expect(ticketsOf(got[0]!)).toHaveLength(1);
    expect(ticketsOf(got[0]!)[0]).toBe(ticketsOf(batches[2]!)[0]);
    expect(ledger.inFlight).toBe(1);
    send(3);
    src.complete();
    expect(ticketsOf(got[1]!)).toEqual([]); // the flushed state holds no credit
    expect(ledger.inFlight).toBe(1);
    releaseBatch(got[0]!);
    releaseBatch(got[1]!);
    expect(ledger.inFlight).toBe(0);
  });

  it('an input passed on as is carries exactly one reference (hold and absorb)', () => {
    for (const state of ['hold', 'absorb'] as const) {
      const { ledger, batches, src, send } = sourced(3);
      // pass long batches on unchanged, split the others in two
      const got = collect(
        src.pipe(
          operate<Doc, Doc>(
            (b, emit) => {
              if (b === batches[1]) {
                emit(b.slice(0, 2));
                emit(b.slice(2));
              } else emit(b);
            },
            { state },
          ),
        ),
      );
      send(0, 1, 2);
      expect(got).toHaveLength(4);
      expect(textsOf(got[0]!)).toEqual(textsOf(batches[0]!)); // same data, a new view of it
      expect(ledger.inFlight).toBe(3);
      releaseBatch(got[0]!);
      expect(ledger.inFlight).toBe(2);
      releaseBatch(got[1]!);
      expect(ledger.inFlight).toBe(2);
      expect(() => {
        releaseBatch(got[2]!);
        releaseBatch(got[3]!);
      }).not.toThrow();
      expect(ledger.inFlight).toBe(0);
    }
  });

  it('an error releases every held input', () => {
    const { ledger, src, sendAll } = sourced(3);
    let failed: unknown;
    src
      .pipe(
        operate<Doc, Doc>((_b, _emit, i) => {
          if (i === 2) throw new Error('bad batch');
        }),
      )
      .subscribe({
        error: (e) => {
          failed = e;
        },
      });
    sendAll();
    expect(failed).toBeInstanceOf(Error);
    expect(ledger.inFlight).toBe(0);
  });
});

describe('foreign', () => {
  it('releases the inputs it has taken when it emits its next output', () => {
    const { ledger, src, send } = sourced(5);
    const got = collect(src.pipe(foreign(bufferCount<RecordBatch<Doc>>(2))));
    send(0);
    expect(ledger.inFlight).toBe(1);
    send(1);
    expect(got.length).toBe(1);
    expect(ledger.inFlight).toBe(0);
    send(2);
    send(3);
    send(4);
    expect(ledger.inFlight).toBe(1);
    src.complete(); // the last, partial buffer
    expect(got.length).toBe(3);
    expect(ledger.inFlight).toBe(0);
  });

  it('an input it emits as is keeps its own ticket (released once, downstream)', () => {
    const { ledger, batches, src, sendAll } = sourced(4);
    const got = collect(src.pipe(foreign(filter((b: RecordBatch<Doc>) => b !== batches[1]))));
    sendAll();
    expect(got).toEqual([batches[0], batches[2], batches[3]]);
    expect(ledger.inFlight).toBe(3); // the filtered-out one was released at the next output
    got.forEach(releaseBatch); // a sink writing them
    expect(ledger.inFlight).toBe(0);
  });

  it('an input emitted after its credit was let go carries no ticket (delay)', async () => {
    const { ledger, batches, src, sendAll } = sourced(4);
    const done = lastValueFrom(src.pipe(foreign(delay<RecordBatch<Doc>>(5)), toArray()));
    sendAll();
    src.complete();
    const got = await done;
    expect(got.map((b) => textsOf(b))).toEqual(batches.map((b) => textsOf(b)));
    expect(got[0]).toBe(batches[0]);
    expect(() => got.forEach(releaseBatch)).not.toThrow();
    expect(ledger.inFlight).toBe(0);
  });

  it('a mapping foreign operator: the credit returns as its output appears', () => {
    const { ledger, src, send } = sourced(3);
    const got = collect(
      src.pipe(
        foreign(
          map((b: RecordBatch<Doc>) => withColumns(b, { n: textsOf(b).map((t) => t!.length) }, { n: new Int32() })),
        ),
      ),
    );
    send(0);
    expect(got.length).toBe(1);
    expect(ticketsOf(got[0]!)).toEqual([]);
    expect(ledger.inFlight).toBe(0);
  });
});

describe('a chain of helpers', () => {
  it('returns the ledger to exactly zero with no double release', async () => {
    const { ledger, batches, src, sendAll } = sourced(8, 4);
    const out = lastValueFrom(
      src.pipe(
        mapBatch(upper),
        filterRows<Doc>((b, r) => (String(b.getChild('text')!.get(r)).length > 200 ? true : 'short')),
        operate<Doc, Doc>((b, emit) => {
          for (let r = 0; r < b.numRows; r++) emit(b.slice(r, r + 1));
        }),
        foreign(filter((b: RecordBatch<Doc>) => b.numRows > 0)),
        mapBatch(async (b: RecordBatch<Doc>) => b, { concurrency: 2 }),
        toArray(),
      ),
    );
    sendAll();
    src.complete();
    const got = await out;
    const long = batches.flatMap((b) => textsOf(b)).filter((t) => t!.length > 200).length;
    expect(got.length).toBe(long);
    expect(ledger.inFlight).toBe(batches.filter((b) => textsOf(b).some((t) => t!.length > 200)).length);
    got.forEach(releaseBatch);
    expect(ledger.inFlight).toBe(0);
    expect(ledger.inFlightBytes).toBe(0);
  });

  it('the ledger refuses a release beyond the references held', () => {
    const { ledger, batches, send } = sourced(1);
    send(0);
    expect(ledger.inFlight).toBe(1);
    releaseBatch(batches[0]!);
    expect(ledger.inFlight).toBe(0);
    expect(() => release(ticketsOf(batches[0]!))).toThrow(/released more often than held/);
  });
});
