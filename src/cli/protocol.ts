import { BerthError, type BerthErrorCode } from '../errors.js';

/**
 * berth daemon's wire format: one JSON object per line over a unix socket.
 * Requests `{ id, method, params }`; replies `{ id, result }` or `{ id, error: { code, message } }`;
 * an `events` request gets `{ id, event }` lines, then `{ id, end: true }` unless it follows.
 */
export interface Request {
  id: number;
  method: string;
  params: unknown[];
}

export type Reply =
  | { id: number; result: unknown }
  | { id: number; error: { code: BerthErrorCode; message: string } }
  | { id: number; event: unknown }
  | { id: number; end: true };

export const SOCKET_NAME = 'berth.sock';

/** Splits a stream of text into lines, calling `onLine` for each complete one. */
export function lineReader(onLine: (line: string) => void): (chunk: Buffer | string) => void {
  let buffered = '';
  return (chunk) => {
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.trim()) onLine(line);
    }
  };
}

export function toError(error: { code: BerthErrorCode; message: string }): BerthError {
  return new BerthError(error.code, error.message);
}
