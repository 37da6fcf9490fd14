import type { IncomingMessage, ServerResponse } from 'node:http';
import { BerthError } from '../../errors.js';
import type { Supervisor } from '../../supervisor.js';
import { INIT } from '../../validate.js';
import { feedEvents } from './event-feed.js';
import { sendJson } from './http-errors.js';
import { feedLogs } from './log-feed.js';
import openapi from './openapi.json' with { type: 'json' };
import { createBody, eventsQuery, execBody, killBody, noBody, queryBoolean, queryCount, queryString, readQuery, resourcesBody, stopBody, type Query } from './requests.js';
import { SseStream } from './sse.js';

export interface RouteContext {
  sv: Supervisor;
  /** The path's `{name}` parts, decoded. */
  params: Record<string, string>;
  query: Query;
  /** The request's JSON body, parsed (undefined if it had none): each route checks its shape. */
  body: unknown;
  request: IncomingMessage;
  response: ServerResponse;
}

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  /** As OpenAPI writes it: `/containers/{id}/start`. */
  path: string;
  handle(context: RouteContext): Promise<void>;
}

/** A route answered with one JSON value (204 and no body when `status` is 204). */
function json(method: Route['method'], path: string, status: number, answer: (context: RouteContext) => unknown): Route {
  return { method, path, handle: async (context) => sendJson(context.response, status, await answer(context)) };
}

/** The process a request names with `?process=` (init by default). */
const processOf = (query: Query): string => readQuery(query, { process: queryString }).process ?? INIT;

/**
 * Every route the daemon serves; openapi.json describes each of them (a test
 * holds the two together). Ids in paths are checked by the Supervisor.
 */
export const ROUTES: Route[] = [
  json('GET', '/openapi.json', 200, () => openapi),
  json('GET', '/containers', 200, ({ sv, query }) => (readQuery(query, {}), sv.list())),
  json('POST', '/containers', 201, async ({ sv, body }) => {
    const options = createBody(body, 'body');
    await sv.create(options);
    return sv.get(options.id);
  }),
  json('GET', '/containers/{id}', 200, ({ sv, params }) => sv.get(params.id!)),
  json('DELETE', '/containers/{id}', 204, ({ sv, params, query }) => sv.delete(params.id!, { force: readQuery(query, { force: queryBoolean }).force ?? false })),
  json('POST', '/containers/{id}/start', 200, ({ sv, params, body }) => (noBody(body, 'body'), sv.start(params.id!))),
  json('POST', '/containers/{id}/exec', 201, ({ sv, params, body }) => sv.exec(params.id!, execBody(body, 'body'))),
  json('POST', '/containers/{id}/kill', 204, ({ sv, params, body }) => {
    const { signal, process = INIT } = killBody(body, 'body');
    return sv.signal(params.id!, process, signal);
  }),
  json('POST', '/containers/{id}/pause', 204, ({ sv, params, body }) => (noBody(body, 'body'), sv.pause(params.id!))),
  json('POST', '/containers/{id}/resume', 204, ({ sv, params, body }) => (noBody(body, 'body'), sv.resume(params.id!))),
  json('POST', '/containers/{id}/stop', 200, ({ sv, params, body }) => sv.stop(params.id!, stopBody(body, 'body'))),
  json('POST', '/containers/{id}/update', 204, ({ sv, params, body }) => sv.update(params.id!, resourcesBody(body, 'body'))),
  json('GET', '/containers/{id}/stats', 200, ({ sv, params, query }) => (readQuery(query, {}), sv.stats(params.id!))),
  json('GET', '/containers/{id}/top', 200, ({ sv, params, query }) => (readQuery(query, {}), sv.top(params.id!))),
  json('GET', '/containers/{id}/spec', 200, ({ sv, params, query }) => (readQuery(query, {}), sv.spec(params.id!))),
  json('POST', '/containers/{id}/wait', 200, ({ sv, params, query, body }) => (noBody(body, 'body'), sv.wait(params.id!, processOf(query)))),
  {
    method: 'GET',
    path: '/containers/{id}/logs',
    handle: async ({ sv, params, query, request, response }) => {
      const { process = INIT, tailBytes, follow } = readQuery(query, { process: queryString, tailBytes: queryCount, follow: queryBoolean });
      if (!follow) {
        const text = await sv.logs(params.id!, process, tailBytes === undefined ? {} : { tailBytes });
        response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text);
        return;
      }
      if (tailBytes !== undefined) throw new BerthError('invalid-spec', 'tailBytes and follow do not go together: follow resumes with Last-Event-ID');
      const from = lastEventId(request);
      await feedLogs(sv, params.id!, process, from === undefined ? undefined : queryCount([from], 'Last-Event-ID'), () => new SseStream(response));
    },
  },
  {
    method: 'GET',
    path: '/events',
    handle: async ({ sv, query, request, response }) => {
      const events = eventsQuery(query, lastEventId(request));
      sv.events(events); // checks the query (an unknown id, a bad cursor) while an error can still be the answer
      feedEvents(sv, events, new SseStream(response));
    },
  },
  json('GET', '/viewer', 200, async ({ sv }) => ({ url: sv.viewerUrl ?? null })),
];

function lastEventId(request: IncomingMessage): string | undefined {
  const value = request.headers['last-event-id'];
  return Array.isArray(value) ? value[0] : value;
}

/** Why no route answers a request: nothing at that path (404), or not that method there (405, with the ones that are). */
export interface NoRoute {
  status: 404 | 405;
  error: BerthError;
  allow?: string;
}

/** The route for a method and a path, with the path's parameters; or why there is none. */
export function findRoute(method: string, pathname: string): { route: Route; params: Record<string, string> } | NoRoute {
  const parts = pathname.split('/');
  const allowed: string[] = [];
  for (const route of ROUTES) {
    const params = matchPath(route.path.split('/'), parts);
    if (!params) continue;
    if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { route, params };
    allowed.push(route.method);
  }
  if (allowed.length === 0) return { status: 404, error: new BerthError('not-found', `nothing is served at ${pathname.slice(0, 80)}: see /openapi.json`) };
  return { status: 405, error: new BerthError('unsupported', `${method.slice(0, 10)} is not served at ${pathname.slice(0, 80)}`), allow: allowed.join(', ') };
}

function matchPath(pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, segment] of pattern.entries()) {
    const part = parts[i]!;
    if (segment.startsWith('{')) {
      if (part === '') return undefined;
      params[segment.slice(1, -1)] = decodeSegment(part);
    } else if (segment !== part) return undefined;
  }
  return params;
}

function decodeSegment(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new BerthError('invalid-id', `the path's ${JSON.stringify(part.slice(0, 40))} is not valid percent-encoding`);
  }
}
