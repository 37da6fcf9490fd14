import type { Observable, Subscription } from 'rxjs';
import { toErrorData } from '../../errors.js';
import type { SseMessage, SseStream } from './sse.js';

/**
 * Feeds a stream from a source that can be opened again from where it was
 * (`open` reads the caller's cursor, which `message` moves on), without
 * outrunning the reader: once the reader falls behind, the source is dropped;
 * on 'drain' it is opened again after the last item sent. Nothing piles up in
 * the daemon and nothing is skipped. The source's end is an `end` event, its
 * failure an `error` event ({ code, message }); either ends the stream.
 */
export function pacedFeed<T>(stream: SseStream, open: () => Observable<T>, message: (item: T) => SseMessage): void {
  let subscription: Subscription | undefined;
  let behind = false;
  let done = false;
  const finish = (event: 'end' | 'error', data: unknown): void => {
    done = true;
    stream.send({ event, data });
    stream.end();
  };
  const pause = (): void => {
    behind = true;
    subscription?.unsubscribe();
  };
  const subscribe = (): void => {
    behind = false;
    try {
      subscription = open().subscribe({
        next: (item) => {
          if (!stream.send(message(item))) pause();
        },
        complete: () => finish('end', {}),
        error: (err: unknown) => finish('error', toErrorData(err)),
      });
    } catch (err) {
      finish('error', toErrorData(err));
    }
    if (behind) subscription?.unsubscribe(); // fell behind while subscribing
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
