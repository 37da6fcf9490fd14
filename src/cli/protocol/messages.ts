import { BerthError, type ErrorData } from '../../errors.js';

/**
 * berth daemon's messages: one JSON object per line over a unix socket.
 * Requests `{ id, method, params }` (checked in requests.ts); replies `{ id, result }`
 * or `{ id, error: { code, message } }`; an `events` request gets `{ id, event }`
 * lines, then `{ id, end: true }` unless it follows. An error about no request in
 * particular (a line that is not one, or a connection ended by the daemon) has `id: null`.
 */
export type Reply =
  | { id: number; result: unknown }
  | { id: number | null; error: ErrorData }
  | { id: number; event: unknown }
  | { id: number; end: true };

export const SOCKET_NAME = 'berth.sock';

/** Longest request line the daemon reads; a longer one is answered with an error and its connection closed. */
export const MAX_REQUEST_BYTES = 1024 * 1024;

export const encode = (message: unknown): string => `${JSON.stringify(message)}\n`;

export function toError(error: ErrorData): BerthError {
  return new BerthError(error.code, error.message);
}
