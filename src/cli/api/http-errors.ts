import type { ServerResponse } from 'node:http';
import { toErrorData, type BerthErrorCode, type ErrorData } from '../../errors.js';

/** The HTTP status each error code is answered with (the body is always `{ code, message }`). */
export const STATUS_BY_CODE: Record<BerthErrorCode, number> = {
  'not-found': 404,
  'already-exists': 409,
  'invalid-state': 409,
  'invalid-id': 400,
  'invalid-signal': 400,
  'invalid-spec': 400,
  'too-large': 413,
  'events-pruned': 410,
  'output-lost': 410,
  'slow-consumer': 429,
  unsupported: 501,
  closed: 503,
  locked: 503,
  'disk-full': 507,
  'runtime-error': 500,
  'journal-corrupt': 500,
  'journal-missing': 500,
};

/** Sends `body` as JSON with `status` (204: no body). */
export function sendJson(response: ServerResponse, status: number, body?: unknown): void {
  if (status === 204 || body === undefined) {
    response.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

/**
 * Answers with the error `err` is (a BerthError's code, anything else runtime-error), with
 * its code's status unless told another; an answer already begun is cut off instead.
 */
export function sendError(response: ServerResponse, err: unknown, options: { status?: number; headers?: Record<string, string> } = {}): void {
  const data: ErrorData = toErrorData(err);
  if (response.headersSent) {
    response.destroy();
    return;
  }
  for (const [name, value] of Object.entries(options.headers ?? {})) response.setHeader(name, value);
  sendJson(response, options.status ?? STATUS_BY_CODE[data.code], data);
}
