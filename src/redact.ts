import { pino, type Logger } from 'pino';
import { isPlainObject } from './validate.js';

/** What an environment value is shown as wherever berth lets a process spec out. */
export const REDACTED = '[redacted]';

/**
 * A copy of `value` in which every process spec (a plain object with `args`
 * and an `env` object, or a bundle's `process`, at any depth of plain objects and arrays) has its env
 * values replaced by REDACTED: names say what was set, values may be secrets.
 * Anything else (actor refs, Dates, errors) is kept as it is; `value` itself
 * is never changed.
 */
export function redactEnv<T>(value: T, copies = new WeakMap<object, unknown>()): T {
  if (!Array.isArray(value) && !isPlainObject(value)) return value;
  const known = copies.get(value);
  if (known !== undefined) return known as T;
  const copy: Record<string, unknown> = Array.isArray(value) ? ([] as unknown as Record<string, unknown>) : {};
  copies.set(value, copy); // before descending: a cycle gets the copy, not an endless walk
  for (const [key, entry] of Object.entries(value)) copy[key] = redactEnv(entry, copies);
  const hide = (env: Record<string, unknown>) => Object.fromEntries(Object.keys(env).map((name) => [name, REDACTED]));
  if (Array.isArray(copy.args) && isPlainObject(copy.env)) copy.env = hide(copy.env);
  // A bundle's process changes (BundleProcess) may give env without args.
  if (typeof copy.bundle === 'string' && isPlainObject(copy.process) && isPlainObject(copy.process.env)) copy.process = { ...copy.process, env: hide(copy.process.env) };
  return copy as T;
}

/**
 * The supervisor's logger: `logger`, with env values redacted from every object
 * logged through it or its children (after its own log formatter, if any).
 */
export function redactingLogger(logger: Logger): Logger {
  const own = (logger as unknown as Record<symbol, { log?: (object: object) => object }>)[pino.symbols.formattersSym]?.log;
  return logger.child({}, { formatters: { log: (object) => redactEnv(own ? own(object) : object) } });
}
