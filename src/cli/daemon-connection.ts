import type { Socket } from 'node:net';
import { toErrorData, type ErrorData } from '../errors.js';
import type { Supervisor } from '../supervisor.js';
import { invoke } from './backend.js';
import { feedEvents, type Feed } from './event-feed.js';
import { lineReader } from './protocol/lines.js';
import { encode, MAX_REQUEST_BYTES, type Reply } from './protocol/messages.js';
import { decodeRequest } from './protocol/requests.js';

/** Requests (calls and event streams) one connection may have open at once; past it, its requests wait unread. */
const MAX_OPEN_REQUESTS = 16;
/**
 * Reply bytes a client may leave unread. Reading its requests stops long before
 * (at the socket's high-water mark), so only replies already under way can push
 * past it: that client is then cut off with slow-consumer.
 */
const MAX_UNREAD_BYTES = 16 * 1024 * 1024;

/**
 * Serves one client of the daemon. Whatever it sends, it gets an answer or an
 * error and the daemon stays up. A client that does not read its replies stops
 * being read (its requests wait in its socket), so it costs the daemon a bounded
 * amount of memory however much it sends.
 */
export function serveConnection(sv: Supervisor, socket: Socket): void {
  const lines: Buffer[] = []; // read but not yet handled: at most what one read brought
  let next = 0;
  let open = 0;
  let closing = false;
  const feeds = new Set<Feed>();

  const keepingUp = () => !socket.writableNeedDrain;
  const send = (reply: Reply): void => {
    if (closing || !socket.writable) return;
    if (socket.writableLength > MAX_UNREAD_BYTES) {
      hangUp({ code: 'slow-consumer', message: `more than ${MAX_UNREAD_BYTES} bytes of replies left unread` });
      return;
    }
    socket.write(encode(reply));
  };
  /** Ends the connection with a last error line; nothing else is read or sent. */
  const hangUp = (error: ErrorData): void => {
    if (closing) return;
    socket.write(encode({ id: null, error }));
    closing = true;
    socket.end();
    stopFeeds();
  };
  const stopFeeds = (): void => {
    for (const feed of feeds) feed.stop();
    feeds.clear();
  };
  const settled = (): void => {
    open--;
    pump();
  };

  const handle = (line: Buffer): void => {
    const decoded = decodeRequest(line);
    if ('error' in decoded) return send({ id: decoded.id, error: decoded.error });
    const { request } = decoded;
    open++;
    if (request.method === 'events') {
      let feed: Feed | undefined;
      let ended = false;
      feed = feedEvents(sv, request.id, request.params[0], { send, keepingUp }, () => {
        ended = true; // possibly at once, before feedEvents returns: a query the Supervisor refused
        if (feed) feeds.delete(feed);
        settled();
      });
      if (!ended) feeds.add(feed);
      return;
    }
    invoke(sv, request.method, request.params)
      .then(
        (result) => send({ id: request.id, result: result ?? null }),
        (err: unknown) => send({ id: request.id, error: toErrorData(err) }),
      )
      .finally(settled);
  };

  /** Handles the lines read so far while the client keeps up; reads more only then. */
  const pump = (): void => {
    while (next < lines.length && !closing && keepingUp() && open < MAX_OPEN_REQUESTS) handle(lines[next++]!);
    if (next === lines.length) {
      lines.length = 0;
      next = 0;
    }
    if (closing) return;
    if (next === 0 && lines.length === 0 && keepingUp() && open < MAX_OPEN_REQUESTS) socket.resume();
    else socket.pause();
  };

  const read = lineReader(
    (line) => {
      if (!closing) lines.push(line);
    },
    { maxBytes: MAX_REQUEST_BYTES, onTooLong: () => hangUp({ code: 'invalid-spec', message: `a request line may be at most ${MAX_REQUEST_BYTES} bytes` }) },
  );
  socket.on('data', (chunk: Buffer) => {
    read(chunk);
    pump();
  });
  socket.on('drain', () => {
    for (const feed of feeds) feed.resume();
    pump();
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    closing = true;
    stopFeeds();
  });
}
