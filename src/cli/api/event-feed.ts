import type { Supervisor } from '../../supervisor.js';
import type { EventsQuery } from '../../types.js';
import { pacedFeed } from './paced-feed.js';
import type { SseStream } from './sse.js';

/**
 * Streams `sv.events(query)` as Server-Sent Events, `id:` the row's seq, at the
 * reader's pace: dropped while it falls behind, taken up again from the journal
 * after the last seq sent. If retention removes rows before the reader catches
 * up, the stream ends with an `error` event (events-pruned); one that does not
 * follow ends with an `end` event.
 */
export function feedEvents(sv: Supervisor, query: EventsQuery, stream: SseStream): void {
  let lastSeq: number | undefined;
  pacedFeed(
    stream,
    // Resumed with both cursors kept: rows after the last one sent that still match `since`.
    () => sv.events(lastSeq === undefined ? query : { ...query, after: lastSeq }),
    (event) => {
      lastSeq = event.seq;
      return { id: event.seq, data: event };
    },
  );
}
