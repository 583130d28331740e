// Completion, error and ordering semantics of the operator helpers, in virtual time (rxjs marbles),
// on batches of real Moby-Dick paragraphs. orderedMap's async behaviour runs on real timers.
import { describe, expect, it } from 'vitest';
import { RecordBatch } from 'apache-arrow';
import { Observable, Subject, bufferCount, from, lastValueFrom, map, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { makeContext } from '../../src/core/context.ts';
import { FlowError } from '../../src/core/errors.ts';
import { filterRows } from '../../src/core/filter-rows.ts';
import { foreign } from '../../src/core/foreign.ts';
import { mapBatch } from '../../src/core/map-batch.ts';
import { operate } from '../../src/core/operate.ts';
import { orderedMap } from '../../src/core/ordered-map.ts';
import { takeRows, type Doc } from '../../src/schema/index.ts';
import { docBatch, mobyParagraphs, textsOf } from '../fixtures/moby.ts';

/** Batches compare by their rows, errors by name, message and FlowError fields. */
function plain(v: unknown): unknown {
  if (v instanceof RecordBatch) return { rows: v.toArray().map((r) => r.toJSON()) };
  if (v instanceof FlowError) return { FlowError: v.message, operator: v.operator, location: v.location };
  if (v instanceof Error) return { [v.name]: v.message };
  if (Array.isArray(v)) return v.map(plain);
  return v;
}
type Frame = { frame: number; notification: { kind: string; value?: unknown; error?: unknown } };
const norm = (xs: unknown): unknown =>
  Array.isArray(xs)
    ? xs.map((f: Frame) =>
        f && 'notification' in f
          ? {
              frame: f.frame,
              ...f.notification,
              value: plain(f.notification.value),
              error: plain(f.notification.error),
            }
          : f,
      )
    : xs;
const marbles = () =>
  new TestScheduler((actual, expected) => {
    expect(norm(actual)).toEqual(norm(expected));
  });

const ch1 = mobyParagraphs(1);
const ch3 = mobyParagraphs(3);
// a: 4 paragraphs, b: 3, c: 5 (chapter 3, The Spouter-Inn)
const a = docBatch(ch3.slice(0, 4), 'a');
const b = docBatch(ch3.slice(4, 7), 'b');
const c = docBatch(ch3.slice(7, 12), 'c');
const upper = (x: RecordBatch<Doc>) =>
  docBatch(
    textsOf(x).map((t) => t!.toUpperCase()),
    String(x.getChild('id')!.get(0)).replace(/\d+$/, ''),
  );
const boom = new Error('the line parted');

describe('mapBatch (synchronous)', () => {
  it('maps each batch in its frame and completes with the source', () => {
    marbles().run(({ cold, expectObservable }) => {
      const src = cold('-a--b-c--|', { a, b, c });
      expectObservable(src.pipe(mapBatch(upper))).toBe('-A--B-C--|', { A: upper(a), B: upper(b), C: upper(c) });
    });
  });

  it('passes an upstream error on unchanged', () => {
    marbles().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-#', { a }, boom).pipe(mapBatch(upper))).toBe('-A-#', { A: upper(a) }, boom);
    });
  });

  it('fails with a FlowError naming the operator and the batch index, and stops there', () => {
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('-a-b-c|', { a, b, c });
      const ctx = makeContext('shout');
      const op = mapBatch<Doc, Doc>(
        (x, i) => {
          if (i === 1) throw boom;
          return upper(x);
        },
        { ctx },
      );
      expectObservable(src.pipe(op)).toBe('-A-#', { A: upper(a) }, new FlowError('shout', boom.message, { batch: 1 }));
      expectSubscriptions(src.subscriptions).toBe('^--!');
    });
  });
});

describe('filterRows', () => {
  const mentions = (word: RegExp) => (x: RecordBatch<Doc>, r: number) => word.test(String(x.getChild('text')!.get(r)));

  it('keeps the matching rows of a batch, in order', () => {
    const rows = ch1.map((_, i) => i).filter((i) => /\bsea\b/i.test(ch1[i]!));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(ch1.length);
    const whole = docBatch(ch1, 'x');
    marbles().run(({ cold, expectObservable }) => {
      expectObservable(cold('-x|', { x: whole }).pipe(filterRows(mentions(/\bsea\b/i)))).toBe('-y|', {
        y: takeRows(whole, rows),
      });
    });
  });

  it('returns the very same batch when every row is kept', () => {
    const seen: RecordBatch[] = [];
    from([a, b])
      .pipe(filterRows(() => true))
      .subscribe((x) => seen.push(x));
    expect(seen[0]).toBe(a);
    expect(seen[1]).toBe(b);
  });

  it('lets a batch whose rows are all dropped vanish, keeping the others in their frames', () => {
    // a holds chapter 3's heading (its row 0); b is dropped whole
    expect(textsOf(a).map((t) => t!.startsWith('CHAPTER'))).toEqual([true, false, false, false]);
    const ctx = makeContext('no-heading');
    const keep = (x: RecordBatch<Doc>, r: number) =>
      x !== b && !String(x.getChild('text')!.get(r)).startsWith('CHAPTER');
    marbles().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-b-c-|', { a, b, c }).pipe(filterRows(keep, { ctx }))).toBe('-A---c-|', {
        A: takeRows(a, [1, 2, 3]),
        c,
      });
    });
    expect(ctx.stats.dropped).toBe(1 + b.numRows);
  });

  it('counts drops per reason, and plain false under the configured reason', () => {
    const ctx = makeContext('quality');
    const all = [a, b, c];
    const verdict = (x: RecordBatch<Doc>, r: number) => {
      const t = String(x.getChild('text')!.get(r));
      return t.length < 120 ? 'short' : /whale/i.test(t) ? false : true;
    };
    marbles().run(({ cold, expectObservable }) => {
      const kept = all.map((x) =>
        takeRows(
          x,
          [...Array(x.numRows).keys()].filter((r) => verdict(x, r) === true),
        ),
      );
      const expected = Object.fromEntries(
        kept.map((k, i) => [`${'ABC'[i]}`, k]).filter(([, k]) => (k as RecordBatch).numRows > 0),
      );
      const frames = '-' + kept.map((k, i) => (k.numRows > 0 ? 'ABC'[i] : '-')).join('-') + '|';
      expectObservable(
        cold('-a-b-c|', { a, b, c }).pipe(filterRows(verdict, { ctx, reason: 'mentions a whale' })),
      ).toBe(frames, expected);
    });
    const texts = all.flatMap((x) => textsOf(x).map(String));
    const short = texts.filter((t) => t.length < 120).length;
    const whale = texts.filter((t) => t.length >= 120 && /whale/i.test(t)).length;
    expect(short).toBeGreaterThan(0);
    expect(whale).toBeGreaterThan(0);
    expect(Object.fromEntries(ctx.stats.dropReasons)).toEqual({ short, 'mentions a whale': whale });
    expect(ctx.stats.dropped).toBe(short + whale);
  });

  it('fails with the operator, batch and row where the predicate threw', () => {
    const ctx = makeContext('picky');
    marbles().run(({ cold, expectObservable }) => {
      const pred = (x: RecordBatch<Doc>, r: number) => {
        if (x === b && r === 2) throw boom;
        return true;
      };
      expectObservable(cold('-a-b-c|', { a, b, c }).pipe(filterRows(pred, { ctx }))).toBe(
        '-a-#',
        { a },
        new FlowError('picky', boom.message, { batch: 1, row: 2 }),
      );
    });
  });
});

describe('operate', () => {
  const rowsOf = (x: RecordBatch<Doc>) => [...Array(x.numRows).keys()].map((r) => x.slice(r, r + 1));

  it('splits 1 -> N within the input frame', () => {
    marbles().run(({ cold, expectObservable }) => {
      // a group "(...)" spans its width in frames: the spacing lines the groups up with a at 1, b at 8
      const out = cold('-a------b--------|', { a, b }).pipe(operate<Doc, Doc>((x, emit) => rowsOf(x).forEach(emit)));
      const [a0, a1, a2, a3] = rowsOf(a);
      const [b0, b1, b2] = rowsOf(b);
      expectObservable(out).toBe('-(wxyz)-(uvt)----|', { w: a0, x: a1, y: a2, z: a3, u: b0, v: b1, t: b2 });
    });
  });

  it('merges N -> 1 and flushes what is left at completion, completing after the flush', () => {
    const concat = (xs: RecordBatch<Doc>[]) =>
      docBatch(
        xs.flatMap((x) => textsOf(x).map(String)),
        'm',
      );
    const merger = () => {
      let held: RecordBatch<Doc>[] = [];
      return operate<Doc, Doc>(
        (x, emit) => {
          held.push(x);
          if (held.length === 2) {
            emit(concat(held));
            held = [];
          }
        },
        {
          flush: (emit) => {
            if (held.length > 0) emit(concat(held));
            held = [];
          },
        },
      );
    };
    marbles().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-b-c--|', { a, b, c }).pipe(merger())).toBe('---m----(n|)', {
        m: concat([a, b]),
        n: concat([c]),
      });
      expectObservable(cold('-a-b-|', { a, b }).pipe(merger())).toBe('---m-|', { m: concat([a, b]) });
    });
  });

  it('fails with a FlowError naming the operator and batch index; nothing is flushed', () => {
    let flushed = false;
    marbles().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('-a-b-c|', { a, b, c });
      const op = operate<Doc, Doc>(
        (x, emit, i) => {
          if (i === 1) throw boom;
          emit(x);
        },
        {
          ctx: makeContext('packer'),
          flush: () => {
            flushed = true;
          },
        },
      );
      expectObservable(src.pipe(op)).toBe('-a-#', { a }, new FlowError('packer', boom.message, { batch: 1 }));
      expectSubscriptions(src.subscriptions).toBe('^--!');
    });
    expect(flushed).toBe(false);
  });

  it('passes an upstream error on unchanged (not blamed on this operator)', () => {
    marbles().run(({ cold, expectObservable }) => {
      expectObservable(
        cold('-a-#', { a }, boom).pipe(operate<Doc, Doc>((x, emit) => emit(x), { ctx: makeContext('innocent') })),
      ).toBe('-a-#', { a }, boom);
    });
  });

  it('with async work keeps input order and completes only after an async flush', async () => {
    const events: string[] = [];
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const op = operate<Doc, Doc>(
      async (x, emit, i) => {
        await sleep(i === 0 ? 20 : 1);
        emit(x);
      },
      {
        flush: async (emit) => {
          await sleep(10);
          events.push('flush');
          emit(c);
        },
      },
    );
    const out = await new Promise<RecordBatch[]>((resolve, reject) => {
      const got: RecordBatch[] = [];
      from([a, b])
        .pipe(op)
        .subscribe({
          next: (x) => {
            events.push(`next ${x === a ? 'a' : x === b ? 'b' : 'c'}`);
            got.push(x);
          },
          error: reject,
          complete: () => {
            events.push('complete');
            resolve(got);
          },
        });
    });
    expect(out).toEqual([a, b, c]);
    expect(events).toEqual(['next a', 'next b', 'flush', 'next c', 'complete']);
  });
});

describe('foreign', () => {
  it('wraps an RxJS operator: values, frames and completion are its own', () => {
    marbles().run(({ cold, expectObservable }) => {
      const out = cold('-a-b-c|', { a, b, c }).pipe(
        foreign(bufferCount(2)),
        map((xs) => xs.map((x) => x.numRows)),
      );
      expectObservable(out).toBe('---x--(y|)', { x: [a.numRows, b.numRows], y: [c.numRows] });
    });
  });

  it('passes errors from the source and from inside the wrapped operator', () => {
    marbles().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-#', { a }, boom).pipe(foreign(map((x: RecordBatch) => x.numRows)))).toBe(
        '-n-#',
        { n: a.numRows },
        boom,
      );
      const failing = map((x: RecordBatch) => {
        if (x === b) throw boom;
        return x.numRows;
      });
      expectObservable(cold('-a-b-c|', { a, b, c }).pipe(foreign(failing))).toBe('-n-#', { n: a.numRows }, boom);
    });
  });
});

describe('orderedMap', () => {
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

  it('is synchronous for synchronous functions (same frames)', () => {
    marbles().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a--b-|', { a, b }).pipe(orderedMap((x: RecordBatch) => x.numRows, 2))).toBe('-x--y-|', {
        x: a.numRows,
        y: b.numRows,
      });
    });
  });

  it('emits async results in input order although they resolve out of order', async () => {
    const batches = [a, b, c, docBatch(ch3.slice(12, 14), 'd')];
    const resolved: number[] = [];
    const out = await lastValueFrom(
      from(batches).pipe(
        orderedMap(async (x: RecordBatch<Doc>, i) => {
          await sleep(10 + (batches.length - i) * 15); // later inputs finish first
          resolved.push(i);
          return upper(x);
        }, 4),
        toArray(),
      ),
    );
    expect(resolved).toEqual([3, 2, 1, 0]);
    expect(out.map((x) => textsOf(x))).toEqual(batches.map((x) => textsOf(x).map((t) => t!.toUpperCase())));
  });

  it('never runs more than `concurrency` calls at once, and reaches it', async () => {
    let active = 0;
    let peak = 0;
    const inputs = ch1.map((_, i) => i);
    const out = await lastValueFrom(
      from(inputs).pipe(
        orderedMap(async (i: number) => {
          active++;
          peak = Math.max(peak, active);
          await sleep(i % 3 === 0 ? 8 : 2);
          active--;
          return ch1[i]!.length;
        }, 3),
        toArray(),
      ),
    );
    expect(peak).toBe(3);
    expect(out).toEqual(ch1.map((p) => p.length));
  });

  it('starts nothing more once unsubscribed', async () => {
    const started: number[] = [];
    const src = new Subject<number>();
    const sub = src
      .pipe(
        orderedMap(async (i: number) => {
          started.push(i);
          await sleep(5);
          return i;
        }, 1),
      )
      .subscribe();
    src.next(0);
    src.next(1);
    src.next(2);
    sub.unsubscribe();
    await sleep(30);
    expect(started).toEqual([0]);
  });

  it('fails on the first rejection, even when later results are ready', async () => {
    const out: number[] = [];
    const err = await new Promise<unknown>((resolve) => {
      from([0, 1, 2])
        .pipe(
          orderedMap(async (i: number) => {
            await sleep(i === 0 ? 20 : 1);
            if (i === 0) throw boom;
            return i;
          }, 3),
        )
        .subscribe({ next: (v) => out.push(v), error: resolve });
    });
    expect(err).toBe(boom);
    expect(out).toEqual([]);
  });

  it('rejects a concurrency below 1', () => {
    expect(() => orderedMap((x: number) => x, 0)).toThrow(/concurrency must be >= 1/);
  });

  it('completes only after the last async result is out', async () => {
    const events: string[] = [];
    await new Promise<void>((resolve) => {
      new Observable<number>((s) => {
        s.next(1);
        s.next(2);
        s.complete();
      })
        .pipe(
          orderedMap(async (i: number) => {
            await sleep(5 * i);
            return i;
          }, 2),
        )
        .subscribe({
          next: (v) => events.push(`next ${v}`),
          complete: () => {
            events.push('complete');
            resolve();
          },
        });
    });
    expect(events).toEqual(['next 1', 'next 2', 'complete']);
  });
});
