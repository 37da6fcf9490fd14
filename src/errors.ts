/**
 * Every failure berth reports to a caller is a BerthError with a stable `code`,
 * so callers can branch on it without parsing messages.
 */
export type BerthErrorCode =
  | 'not-found'
  | 'already-exists'
  | 'invalid-id'
  | 'invalid-state'
  | 'invalid-signal'
  | 'invalid-spec'
  | 'runtime-error'
  | 'journal-corrupt'
  | 'journal-missing'
  | 'disk-full'
  | 'events-pruned'
  | 'locked'
  | 'unsupported'
  /** A daemon client that left too many replies unread: its connection is ended. */
  | 'slow-consumer'
  /** logs() on more output than one string may hold: stream it with output(), or ask for a tail. */
  | 'too-large'
  /** A follower of output() fell so far behind that bytes it had not read were rotated away (logs.keep). */
  | 'output-lost'
  | 'closed';

export class BerthError extends Error {
  override readonly name = 'BerthError';
  constructor(
    readonly code: BerthErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isBerthError(err: unknown, code?: BerthErrorCode): err is BerthError {
  return err instanceof BerthError && (code === undefined || err.code === code);
}

/** Shape a BerthError takes when it crosses an actor boundary (plain data). */
export interface ErrorData {
  code: BerthErrorCode;
  message: string;
}

export function toErrorData(err: unknown): ErrorData {
  if (err instanceof BerthError) return { code: err.code, message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'runtime-error', message };
}

/** A BerthError as it is; anything else (an OS error) as `runtime-error` with its message. */
export function asBerthError(err: unknown): BerthError {
  return err instanceof BerthError ? err : new BerthError('runtime-error', toErrorData(err).message, { cause: err });
}

export function fromErrorData(data: ErrorData): BerthError {
  return new BerthError(data.code, data.message);
}
