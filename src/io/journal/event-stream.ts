import { Observable } from 'rxjs';
import { BerthError } from '../../errors.js';
import type { BerthEvent, EventsQuery } from '../../types.js';
import type { Journal } from './journal.js';

/**
 * Replays committed rows, then continues live, with neither a gap nor a duplicate
 * at the seam: the replay query and the live hook are taken in one synchronous
 * step, so every later commit carries a higher seq than the replay's last row.
 *
 * Each subscriber has its own unbounded queue, so it loses nothing. The replay is
 * delivered on a later turn of the event loop; live rows are handed over as
 * they are committed, before the commit settles any promise: once a call that
 * journaled resolves, every live subscriber already has its row, even one
 * that unsubscribes right after the await.
 */
export function eventStream(journal: Journal, query: EventsQuery): Observable<BerthEvent> {
  return new Observable<BerthEvent>((subscriber) => {
    const types = query.types ? new Set(query.types) : undefined;
    const matches = (event: BerthEvent): boolean =>
      (query.id === undefined || event.id === query.id) &&
      (types === undefined || types.has(event.type)) &&
      (query.since === undefined || event.time.getTime() >= query.since.getTime());

    if (query.after !== undefined) {
      const oldest = journal.oldestSeq();
      const firstWanted = query.after + 1;
      if (oldest !== undefined && oldest > firstWanted && firstWanted <= journal.headSeq) {
        subscriber.error(
          new BerthError(
            'events-pruned',
            `events ${firstWanted}..${oldest - 1} are no longer kept (retainCount); the oldest kept is ${oldest}`,
          ),
        );
        return;
      }
    }

    // Without a cursor (`after` or `since`) a stream is live only, as containerd's was.
    const replays = query.after !== undefined || query.since !== undefined;
    const queue: BerthEvent[] = replays ? journal.replay(query) : [];
    let done = query.storedOnly === true;
    let scheduled = false;

    const deliver = (): void => {
      const batch = queue.splice(0, queue.length);
      for (const event of batch) {
        if (subscriber.closed) return;
        subscriber.next(event);
      }
    };
    const drain = (): void => {
      scheduled = false;
      deliver();
      if (done) subscriber.complete();
    };
    const schedule = (): void => {
      if (scheduled) return;
      scheduled = true;
      setImmediate(drain);
    };

    const unhook = done
      ? () => {}
      : journal.onCommit((events) => {
          for (const event of events) if (matches(event)) queue.push(event);
          if (queue.length > 0) deliver();
        });
    const unhookClose = journal.onClose(() => {
      done = true;
      schedule();
    });
    schedule();
    return () => {
      unhook();
      unhookClose();
      queue.length = 0;
    };
  });
}

