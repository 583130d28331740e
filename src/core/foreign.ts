// A foreign RxJS operator knows nothing of tickets. It is treated as a synchronous boundary: the
// tickets of the inputs it has taken are released when it emits its next output, or when it ends.
import { Observable, type OperatorFunction } from 'rxjs';
import { release, ticketsOf, type Ticket } from './tickets.ts';

export function foreign<A extends object, B>(op: OperatorFunction<A, B>): OperatorFunction<A, B> {
  return (source) => new Observable<B>((subscriber) => {
    let held: Ticket[] = [];
    const letGo = () => { const h = held; held = []; release(h); };
    const tracked = new Observable<A>((inner) => source.subscribe({
      next: (a) => { held = held.concat(ticketsOf(a)); inner.next(a); },
      error: (e) => inner.error(e),
      complete: () => inner.complete(),
    }));
    const sub = op(tracked).subscribe({
      next: (b) => { letGo(); subscriber.next(b); },
      error: (e) => { letGo(); subscriber.error(e); },
      complete: () => { letGo(); subscriber.complete(); },
    });
    return () => { sub.unsubscribe(); letGo(); };
  });
}
