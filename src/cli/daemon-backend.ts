import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { Observable } from 'rxjs';
import { BerthError } from '../errors.js';
import type { BerthEvent, EventsQuery } from '../types.js';
import { rpcMethods, type Backend } from './backend.js';
import { decodeUtf8, lineReader } from './protocol/lines.js';
import { encode, SOCKET_NAME, toError, type Reply } from './protocol/messages.js';
import { untilConnected } from './reconnect.js';

/**
 * Calls `onReply` with each reply the daemon sends. The daemon only writes valid
 * JSON; anything else means the connection is broken, and it is closed.
 */
function readReplies(socket: Socket, onReply: (reply: Reply) => void): void {
  socket.on(
    'data',
    lineReader((line) => {
      let reply: Reply;
      try {
        reply = JSON.parse(decodeUtf8(line) ?? '') as Reply;
      } catch {
        socket.destroy();
        return;
      }
      onReply(reply);
    }),
  );
}

function open(socketPath: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** A connection to `berth daemon`, if one serves this state dir. */
export async function daemonBackend(stateDir: string): Promise<Backend | undefined> {
  const socketPath = join(stateDir, SOCKET_NAME);
  let socket: Socket;
  try {
    socket = await open(socketPath);
  } catch {
    return undefined;
  }
  let next = 1;
  const pending = new Map<number, (reply: Reply) => void>();
  const deliverAll = (reply: Reply) => {
    for (const deliver of pending.values()) deliver(reply);
  };
  // A reply with no id is about the connection (the daemon ended it): every call waiting on it gets it.
  readReplies(socket, (reply) => (reply.id === null ? deliverAll(reply) : pending.get(reply.id)?.(reply)));
  socket.on('error', () => undefined);
  socket.on('close', () => deliverAll({ id: null, error: { code: 'closed', message: 'the daemon went away' } }));

  const call = <T>(method: string, ...params: unknown[]): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = next++;
      pending.set(id, (reply) => {
        pending.delete(id);
        if ('error' in reply) reject(toError(reply.error));
        else resolve((reply as { result: T }).result);
      });
      socket.write(encode({ id, method, params }));
    });

  return {
    ...rpcMethods((method, args) => call(method, ...args)),
    events: (query) => followAcrossRestarts(socketPath, query),
    close: async () => {
      socket.end();
    },
  };
}

/**
 * An events stream over its own connection. If the daemon goes away while the
 * stream follows, it reconnects (however long the daemon takes to come back,
 * until unsubscribed) and resumes after the last seq it delivered: no gap, no duplicate.
 */
function followAcrossRestarts(socketPath: string, query: EventsQuery): Observable<BerthEvent> {
  return new Observable<BerthEvent>((subscriber) => {
    let lastSeq: number | undefined;
    let socket: Socket | undefined;
    let stopped = false;
    let connectedOnce = false;
    const subscribe = async (): Promise<void> => {
      const connected = connectedOnce
        ? await untilConnected(() => open(socketPath), `the berth daemon at ${socketPath}`, () => stopped)
        : await open(socketPath).catch(() => undefined);
      if (stopped) {
        connected?.destroy();
        return;
      }
      if (!connected) {
        subscriber.error(new BerthError('closed', `no berth daemon answers at ${socketPath}`));
        return;
      }
      socket = connected;
      connectedOnce = true;
      const resumed: EventsQuery = lastSeq === undefined ? query : { ...query, after: lastSeq, since: undefined };
      let ended = false;
      readReplies(socket, (reply) => {
        if ('event' in reply) {
          const event = reply.event as BerthEvent;
          lastSeq = event.seq;
          subscriber.next({ ...event, time: new Date(event.time) });
        } else if ('end' in reply) {
          ended = true;
          subscriber.complete();
        } else if ('error' in reply) {
          ended = true;
          subscriber.error(toError(reply.error));
        }
      });
      socket.on('error', () => undefined);
      socket.on('close', () => {
        if (!stopped && !ended) void subscribe(); // the daemon restarted: pick up where we were
      });
      socket.write(encode({ id: 1, method: 'events', params: [resumed] }));
    };
    void subscribe();
    return () => {
      stopped = true;
      socket?.destroy();
    };
  });
}
