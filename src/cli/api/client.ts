import { request, type IncomingMessage } from 'node:http';
import { BerthError, fromErrorData, type ErrorData } from '../../errors.js';

/**
 * The CLI's side of the daemon's HTTP API: node:http over the unix socket and
 * nothing else, so that a command served by a daemon starts fast.
 */

/** One Server-Sent Event as the client reads it. */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

function send(socketPath: string, method: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    // A connection per request (agent: false): none is kept alive for the daemon to close under a later request.
    const outgoing = request(
      { socketPath, method, path, agent: false, headers: payload === undefined ? headers : { ...headers, 'content-type': 'application/json' } },
      resolve,
    );
    outgoing.on('error', (err) => reject(new BerthError('closed', `the berth daemon at ${socketPath} did not answer: ${err.message}`)));
    outgoing.end(payload);
  });
}

async function text(response: IncomingMessage): Promise<string> {
  response.setEncoding('utf8');
  let all = '';
  for await (const chunk of response as AsyncIterable<string>) all += chunk;
  return all;
}

/** The error an answer that is not a 2xx carries. */
async function failure(response: IncomingMessage): Promise<BerthError> {
  const body = await text(response);
  try {
    const { code, message } = JSON.parse(body) as ErrorData;
    if (typeof code === 'string' && typeof message === 'string') return fromErrorData({ code, message });
  } catch {
    // not one of the daemon's errors: said below
  }
  return new BerthError('runtime-error', `the berth daemon answered ${response.statusCode}: ${body.slice(0, 200)}`);
}

const ok = (response: IncomingMessage): boolean => response.statusCode !== undefined && response.statusCode >= 200 && response.statusCode < 300;

/** A request whose answer is JSON (undefined for 204), or the daemon's error as a BerthError. */
export async function call<T>(socketPath: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await send(socketPath, method, path, body);
  if (!ok(response)) throw await failure(response);
  const answer = await text(response);
  return (answer === '' ? undefined : JSON.parse(answer)) as T;
}

/** A request whose answer is text. */
export async function callText(socketPath: string, path: string): Promise<string> {
  const response = await send(socketPath, 'GET', path, undefined);
  if (!ok(response)) throw await failure(response);
  return text(response);
}

/**
 * Reads an event stream until it ends or `stop()` is called. `ended` resolves
 * when the server ended it (or it was stopped), and rejects if it could not be
 * opened (the daemon's error) or the connection broke.
 */
export function stream(socketPath: string, path: string, lastEventId: string | undefined, onEvent: (event: SseEvent) => void): { ended: Promise<void>; stop(): void } {
  let stopped = false;
  let response: IncomingMessage | undefined;
  const ended = (async () => {
    response = await send(socketPath, 'GET', path, undefined, lastEventId === undefined ? {} : { 'last-event-id': lastEventId });
    if (!ok(response)) throw await failure(response);
    if (stopped) {
      response.destroy();
      return;
    }
    response.setEncoding('utf8');
    let buffered = '';
    let complete = false;
    response.on('end', () => (complete = true));
    try {
      for await (const chunk of response as AsyncIterable<string>) {
        buffered += chunk;
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          onEvent(parseEvent(buffered.slice(0, end)));
          buffered = buffered.slice(end + 2);
        }
      }
    } catch (err) {
      if (!stopped) throw new BerthError('closed', `the berth daemon went away: ${(err as Error).message}`);
    }
    if (!complete && !stopped) throw new BerthError('closed', 'the berth daemon went away');
  })();
  return {
    ended,
    stop: () => {
      stopped = true;
      response?.destroy();
    },
  };
}

function parseEvent(block: string): SseEvent {
  const event: SseEvent = { event: 'message', data: '' };
  for (const line of block.split('\n')) {
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') event.id = value;
    else if (field === 'event') event.event = value;
    else if (field === 'data') event.data = event.data === '' ? value : `${event.data}\n${value}`;
  }
  return event;
}
