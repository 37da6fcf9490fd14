import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { Observable } from 'rxjs';
import { BerthError, fromErrorData, isBerthError, type ErrorData } from '../errors.js';
import type { BerthEvent, ContainerInfo, EventsQuery, ExitInfo } from '../types.js';
import type { ProcessRow } from '../io/os/process-table.js';
import type { ContainerSpec, ContainerStats } from '../types.js';
import { call, callText, stream } from './api/client.js';
import type { Backend } from './backend.js';
import { untilConnected } from './reconnect.js';
import { SOCKET_NAME } from './socket-name.js';

/** Whether something accepts connections on the socket. */
export function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const container = (id: string, rest = ''): string => `/containers/${encodeURIComponent(id)}${rest}`;
/** A query string of the parameters given (an array: the parameter repeated). */
const query = (params: Record<string, string | number | boolean | string[] | undefined>): string => {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) for (const one of [value ?? []].flat()) search.append(name, String(one));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
};

/** A connection to `berth daemon` (its HTTP API, see api/openapi.json), if one serves this state dir. */
export async function daemonBackend(stateDir: string): Promise<Backend | undefined> {
  const socketPath = join(stateDir, SOCKET_NAME);
  if (!(await answers(socketPath))) return undefined;
  const post = <T>(path: string, body?: unknown) => call<T>(socketPath, 'POST', path, body);
  const get = <T>(path: string) => call<T>(socketPath, 'GET', path);
  return {
    create: async (options) => void (await post(`/containers`, options)),
    start: (id) => post(container(id, '/start')),
    exec: (id, options) => post(container(id, '/exec'), options),
    signal: (id, processId, signal) => post(container(id, '/kill'), { signal, process: processId }),
    pause: (id) => post(container(id, '/pause')),
    resume: (id) => post(container(id, '/resume')),
    delete: (id, options) => call(socketPath, 'DELETE', container(id, query({ force: options?.force }))),
    wait: (id, processId) => post<ExitInfo>(container(id, `/wait${query({ process: processId })}`)),
    stop: (id, options) => post<ExitInfo>(container(id, '/stop'), options),
    list: () => get<ContainerInfo[]>('/containers'),
    get: (id) => get<ContainerInfo>(container(id)),
    logs: (id, processId, options) => callText(socketPath, container(id, `/logs${query({ process: processId, tailBytes: options?.tailBytes })}`)),
    events: (q) => followAcrossRestarts(socketPath, q),
    viewerUrl: async () => (await get<{ url: string | null }>('/viewer')).url ?? undefined,
    update: (id, resources) => post(container(id, '/update'), resources),
    stats: (id) => get<ContainerStats>(container(id, '/stats')),
    top: (id) => get<ProcessRow[]>(container(id, '/top')),
    spec: (id) => get<ContainerSpec>(container(id, '/spec')),
    close: async () => undefined, // one request, one connection: nothing stays open
  };
}

const eventsPath = (q: EventsQuery): string =>
  `/events${query({ after: q.after, since: q.since?.toISOString(), id: q.id, type: q.types, follow: !q.storedOnly })}`;

/**
 * GET /events as an Observable. If the daemon goes away while the stream
 * follows, it waits for it however long it takes (until unsubscribed), saying
 * so on stderr, and resumes with Last-Event-ID, the last seq it delivered: no
 * gap, no duplicate.
 */
function followAcrossRestarts(socketPath: string, q: EventsQuery): Observable<BerthEvent> {
  // rxjs is loaded here, by the one command that streams, not by every command served by a daemon
  // (the same module as rxjs's own index loads: rxjs is CommonJS for Node).
  const { Observable } = createRequire(import.meta.url)('rxjs/internal/Observable') as typeof import('rxjs');
  return new Observable<BerthEvent>((subscriber) => {
    let lastSeq: string | undefined;
    let current: { stop(): void } | undefined;
    let stopped = false;
    const path = eventsPath(q);
    const follow = async (): Promise<void> => {
      while (!stopped) {
        let answered = false; // the daemon ended the stream itself: `end`, or its error
        const reading = stream(socketPath, path, lastSeq, (message) => {
          if (message.event === 'message') {
            lastSeq = message.id;
            const event = JSON.parse(message.data) as BerthEvent;
            subscriber.next({ ...event, time: new Date(event.time) });
          } else if (message.event === 'end' || message.event === 'error') {
            answered = true;
            if (message.event === 'end') subscriber.complete();
            else subscriber.error(fromErrorData(JSON.parse(message.data) as ErrorData));
          }
        });
        current = reading;
        try {
          await reading.ended;
        } catch (err) {
          // The daemon refused the query: said as it is. Any other failure is the daemon going away.
          if (!isBerthError(err, 'closed') && !answered) {
            answered = true;
            subscriber.error(err);
          }
        }
        if (answered || stopped) return;
        if (q.storedOnly) {
          subscriber.error(new BerthError('closed', `no berth daemon answers at ${socketPath}`));
          return;
        }
        // The daemon restarts: once it answers again, pick up where we were.
        const back = await untilConnected(async () => ((await answers(socketPath)) ? true : undefined), `the berth daemon at ${socketPath}`, () => stopped);
        if (!back) return;
      }
    };
    void follow();
    return () => {
      stopped = true;
      current?.stop();
    };
  });
}
