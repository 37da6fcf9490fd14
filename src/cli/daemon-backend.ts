import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { Observable } from 'rxjs';
import { BerthError } from '../errors.js';
import type { BerthEvent, EventsQuery } from '../types.js';
import { rpcMethods, type Backend } from './backend.js';
import { lineReader, SOCKET_NAME, toError, type Reply } from './protocol.js';

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
  socket.on('data', lineReader((line) => {
    const reply = JSON.parse(line) as Reply;
    pending.get(reply.id)?.(reply);
  }));
  socket.on('close', () => {
    for (const deliver of pending.values()) deliver({ id: 0, error: { code: 'closed', message: 'the daemon went away' } });
  });

  const call = <T>(method: string, ...params: unknown[]): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = next++;
      pending.set(id, (reply) => {
        pending.delete(id);
        if ('error' in reply) reject(toError(reply.error));
        else resolve((reply as { result: T }).result);
      });
      socket.write(`${JSON.stringify({ id, method, params })}\n`);
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
 * stream follows, it reconnects (for up to a minute) and resumes after the last
 * seq it delivered: no gap, no duplicate.
 */
function followAcrossRestarts(socketPath: string, query: EventsQuery): Observable<BerthEvent> {
  return new Observable<BerthEvent>((subscriber) => {
    let lastSeq: number | undefined;
    let socket: Socket | undefined;
    let stopped = false;
    let connectedOnce = false;
    const subscribe = async (): Promise<void> => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        try {
          socket = await open(socketPath);
          connectedOnce = true;
          break;
        } catch {
          if (stopped) return;
          if (!connectedOnce || Date.now() > deadline) {
            subscriber.error(new BerthError('closed', `no berth daemon answers at ${socketPath}`));
            return;
          }
          await new Promise((done) => setTimeout(done, 200));
        }
      }
      const resumed: EventsQuery = lastSeq === undefined ? query : { ...query, after: lastSeq, since: undefined };
      let ended = false;
      socket.on('data', lineReader((line) => {
        const reply = JSON.parse(line) as Reply;
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
      }));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        if (!stopped && !ended) void subscribe(); // the daemon restarted: pick up where we were
      });
      socket.write(`${JSON.stringify({ id: 1, method: 'events', params: [resumed] })}\n`);
    };
    void subscribe();
    return () => {
      stopped = true;
      socket?.destroy();
    };
  });
}
