import type { Subscription } from 'rxjs';
import { toErrorData } from '../../errors.js';
import type { Supervisor } from '../../supervisor.js';
import type { EventsQuery } from '../../types.js';
import type { SseStream } from './sse.js';

/**
 * Streams `sv.events(query)` as Server-Sent Events (`id:` the row's seq) without
 * outrunning the reader. Once the reader falls behind, the subscription is
 * dropped; on 'drain' it is taken up again after the last seq sent, from the
 * journal. Nothing piles up in the daemon and no row is skipped: if retention
 * removes rows before the reader catches up, the stream ends with an `error`
 * event (events-pruned). A stream that does not follow ends with an `end` event.
 */
export function feedEvents(sv: Supervisor, query: EventsQuery, stream: SseStream): void {
  let lastSeq: number | undefined;
  let subscription: Subscription | undefined;
  let behind = false;
  let done = false;
  const finish = (event: 'end' | 'error', data: unknown): void => {
    done = true;
    stream.send({ event, data });
    stream.end();
  };
  const subscribe = (): void => {
    behind = false;
    try {
      // Resumed with both cursors kept: rows after the last one sent that still match `since`.
      subscription = sv.events(lastSeq === undefined ? query : { ...query, after: lastSeq }).subscribe({
        next: (event) => {
          lastSeq = event.seq;
          if (!stream.send({ id: event.seq, data: event })) pause();
        },
        complete: () => finish('end', {}),
        error: (err: unknown) => finish('error', toErrorData(err)),
      });
    } catch (err) {
      finish('error', toErrorData(err));
    }
    if (behind) subscription?.unsubscribe(); // fell behind while subscribing
  };
  const pause = (): void => {
    behind = true;
    subscription?.unsubscribe();
  };
  stream.onDrain(() => {
    if (behind && !done) subscribe();
  });
  stream.onClose(() => {
    done = true;
    subscription?.unsubscribe();
  });
  subscribe();
}
