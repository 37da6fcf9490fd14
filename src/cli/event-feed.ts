import type { Subscription } from 'rxjs';
import { toErrorData } from '../errors.js';
import type { Supervisor } from '../supervisor.js';
import type { EventsQuery } from '../types.js';
import type { Reply } from './protocol/messages.js';

/** What a feed needs from its connection. */
export interface FeedOutlet {
  send(reply: Reply): void;
  /** Whether the reader has taken what was sent so far (below the connection's high-water mark). */
  keepingUp(): boolean;
}

/**
 * Streams `sv.events(query)` to one connection without outrunning its reader.
 * Once the reader falls behind, the subscription is dropped; `resume()` (on the
 * connection's 'drain') takes it up again after the last seq sent, from the
 * journal. Nothing piles up in the daemon and no row is skipped: if retention
 * removes rows before the reader catches up, the stream ends with events-pruned.
 */
export interface Feed {
  /** Takes the stream up again if it was dropped for falling behind. */
  resume(): void;
  stop(): void;
}

export function feedEvents(sv: Supervisor, id: number, query: EventsQuery, out: FeedOutlet, ended: () => void): Feed {
  let lastSeq: number | undefined;
  let subscription: Subscription | undefined;
  let behind = false;
  let done = false;
  const finish = (reply: Reply): void => {
    done = true;
    out.send(reply);
    ended();
  };
  const subscribe = (): void => {
    behind = false;
    try {
      // Resumed with both cursors kept: rows after the last one sent that still match `since`.
      subscription = sv.events(lastSeq === undefined ? query : { ...query, after: lastSeq }).subscribe({
        next: (event) => {
          lastSeq = event.seq;
          out.send({ id, event });
          if (!out.keepingUp()) pause();
        },
        complete: () => finish({ id, end: true }),
        error: (err: unknown) => finish({ id, error: toErrorData(err) }),
      });
    } catch (err) {
      finish({ id, error: toErrorData(err) });
    }
    if (behind) subscription?.unsubscribe(); // fell behind while subscribing
  };
  const pause = (): void => {
    behind = true;
    subscription?.unsubscribe();
  };
  subscribe();
  return {
    resume: () => {
      if (behind && !done) subscribe();
    },
    stop: () => {
      done = true;
      subscription?.unsubscribe();
    },
  };
}
