import { BerthError } from '../../errors.js';
import { followLogPieces } from '../../io/os/process-log.js';
import type { Supervisor } from '../../supervisor.js';
import { processLogPath } from '../log-path.js';
import { pacedFeed } from './paced-feed.js';
import type { SseStream } from './sse.js';

/**
 * Streams a process's output as Server-Sent Events: each piece of text with
 * `id:` the log offset just past it, so a reader that comes back with that
 * Last-Event-ID resumes where it was, without a gap or a repeat. Bytes rotated
 * away before they were sent are a `gap` event ({ from, to }); the process's exit,
 * once everything it wrote is sent, an `end` event. A reader that falls behind
 * stops the reading of the log, taken up again from the last offset sent (pacedFeed).
 */
export async function feedLogs(sv: Supervisor, id: string, processId: string, from: number | undefined, open: () => SseStream): Promise<void> {
  const path = processLogPath(sv.stateDir, id, processId);
  // not-found while an error can still be the answer
  if (!sv.get(id).processes.some((p) => p.id === processId)) throw new BerthError('not-found', `process ${processId} not found in container ${id}`);
  const exited = sv.wait(id, processId);
  exited.catch(() => undefined); // the supervisor closing: the stream ends with what was read
  const stream = open();
  let offset = from;
  pacedFeed(
    stream,
    () => followLogPieces(path, 'auto', exited, { from: offset, onGap: (gap) => stream.send({ event: 'gap', data: gap }) }),
    (piece) => {
      offset = piece.offset;
      return { id: piece.offset, data: piece.text };
    },
  );
}
