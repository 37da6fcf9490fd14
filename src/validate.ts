import { constants } from 'node:os';
import { BerthError } from './errors.js';

/** Longest container or exec id accepted; ids name directories and must stay short. */
export const MAX_ID_LENGTH = 64;

/** Starts with a letter or digit, so '.', '..' and hidden names can never be formed. */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export const INIT = 'init';

/**
 * Ids become path components under the state dir: anything that could escape it
 * ('..', '/', NUL) or collide with berth's own files is refused up front.
 */
export function validateId(id: unknown, what: 'container' | 'exec' | 'checkpoint'): string {
  if (typeof id !== 'string' || id.length === 0) {
    throw new BerthError('invalid-id', `${what} id must be a non-empty string`);
  }
  if (id.length > MAX_ID_LENGTH) {
    throw new BerthError('invalid-id', `${what} id "${id.slice(0, 16)}…" is longer than ${MAX_ID_LENGTH} characters`);
  }
  if (!ID_PATTERN.test(id)) {
    throw new BerthError(
      'invalid-id',
      `${what} id ${JSON.stringify(id)} may only contain letters, digits, '_', '.' and '-', and must start with a letter or digit`,
    );
  }
  if (what === 'exec' && id === INIT) {
    throw new BerthError('invalid-id', `exec id "${INIT}" is reserved for the container's init process`);
  }
  return id;
}

export interface ResolvedSignal {
  name: string;
  number: number;
}

const SIGNALS = constants.signals as Record<string, number>;

/** Accepts 'SIGTERM', 'TERM' or 15; refuses anything the kernel would not know. */
export function resolveSignal(signal: unknown): ResolvedSignal {
  if (typeof signal === 'number') {
    const name = Object.keys(SIGNALS).find((key) => SIGNALS[key] === signal);
    if (Number.isInteger(signal) && name !== undefined) return { name, number: signal };
  } else if (typeof signal === 'string') {
    const name = signal.toUpperCase().startsWith('SIG') ? signal.toUpperCase() : `SIG${signal.toUpperCase()}`;
    const number = SIGNALS[name];
    if (number !== undefined) return { name, number };
  }
  throw new BerthError('invalid-signal', `unknown signal ${JSON.stringify(signal)}`);
}

/** Name of a signal number, for exit records ('SIGKILL' for 9). */
export function signalName(number: number): string | undefined {
  return Object.keys(SIGNALS).find((key) => SIGNALS[key] === number);
}
