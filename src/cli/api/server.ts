import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { BerthError } from '../../errors.js';
import type { Supervisor } from '../../supervisor.js';
import { sendError } from './http-errors.js';
import { findRoute } from './routes.js';

/** The largest request body read; a larger one is answered with 413 and its connection closed. */
export const MAX_BODY_BYTES = 1024 * 1024;
/**
 * How long a client has to send a whole request, headers and body, from its
 * connection or the end of its last answer: a client that trickles its bytes
 * (slowloris) is cut off then. (Node's own headersTimeout is checked by a
 * sweep that, with many such clients, was seen to let them all stay.)
 */
export const REQUEST_DEADLINE_MS = 10_000;

/**
 * The daemon's HTTP/1.1 server (see openapi.json): JSON in and out, errors as
 * `{ code, message }` with their status (http-errors.ts), events and logs as
 * Server-Sent Events. Whatever a client sends, it gets an answer or its
 * connection closed, and the daemon keeps serving: a body is read only up to
 * MAX_BODY_BYTES, headers and bodies only for so long, and a client that does
 * not read its answers stops being read (Node's server pauses a socket whose
 * responses are not taken).
 */
export function apiServer(sv: Supervisor): Server {
  const server = createServer({ maxHeaderSize: 16 * 1024 }, (request, response) => {
    serve(sv, request, response).catch((err: unknown) => sendError(response, err));
  });
  server.on('connection', expectRequest);
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  return server;
}

const deadlines = new WeakMap<Socket, NodeJS.Timeout>();

/** The connection is waiting for a request: it must come whole within REQUEST_DEADLINE_MS. */
function expectRequest(socket: Socket): void {
  if (socket.destroyed) return;
  clearTimeout(deadlines.get(socket));
  deadlines.set(socket, setTimeout(() => socket.destroy(), REQUEST_DEADLINE_MS).unref());
}

function requestRead(socket: Socket): void {
  clearTimeout(deadlines.get(socket));
  deadlines.delete(socket);
}

/**
 * Answers a connection may have unsent at once. Node answers pipelined requests
 * in order and holds each answer until the ones before it are taken: a client
 * that pipelines many requests and reads none would have them all held in memory.
 */
const MAX_PIPELINED = 8;
const unsent = new WeakMap<Socket, number>();

async function serve(sv: Supervisor, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const { socket } = request; // kept: a finished response's request no longer has it
  const pending = (unsent.get(socket) ?? 0) + 1;
  if (pending > MAX_PIPELINED) {
    socket.destroy(); // more answers waiting than any client that reads them needs
    return;
  }
  unsent.set(socket, pending);
  response.once('close', () => unsent.set(socket, (unsent.get(socket) ?? 1) - 1));
  request.once('end', () => requestRead(socket)); // whole, body and all
  response.once('finish', () => expectRequest(socket)); // the next one, on a kept-alive connection
  const url = new URL(request.url ?? '/', 'http://berth');
  const found = findRoute(request.method ?? '', url.pathname);
  if ('error' in found) {
    request.resume(); // whatever body came is not needed
    return sendError(response, found.error, { status: found.status, headers: found.allow ? { allow: found.allow } : {} });
  }
  const body = await readBody(request, response);
  await found.route.handle({ sv, params: found.params, query: url.searchParams, body, request, response });
}

/** The request's body as JSON (undefined if empty); too large, not UTF-8 or not JSON is an error. */
async function readBody(request: IncomingMessage, response: ServerResponse): Promise<unknown> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge(request, response);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw tooLarge(request, response);
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks, size));
  } catch {
    throw new BerthError('invalid-spec', 'a request body must be valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BerthError('invalid-spec', 'a request body must be JSON');
  }
}

/** The error for a body over the limit; the connection is closed after the answer, so the rest is never read. */
function tooLarge(request: IncomingMessage, response: ServerResponse): BerthError {
  response.shouldKeepAlive = false;
  const { socket } = request; // kept: a finished response's request no longer has it
  response.once('finish', () => socket.destroySoon());
  return new BerthError('too-large', `a request body may be at most ${MAX_BODY_BYTES} bytes`);
}
