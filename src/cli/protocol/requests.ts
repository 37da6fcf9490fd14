import { toErrorData, type ErrorData } from '../../errors.js';
import { EVENT_TYPES } from '../../types.js';
import type { RpcMethod } from '../backend.js';
import { args, arrayOf, boolean, count, isPlainObject, oneOf, optional, record, string, stringMap, stringOrInteger, time, type Check } from './checks.js';
import { decodeUtf8 } from './lines.js';

/** env and labels. */
const pairs = optional(stringMap);
const cwd = optional(string);
const inheritEnv = optional(boolean);
/** create's restart policy; its values' ranges are the Supervisor's to check. */
const restart = optional(
  record({ policy: string, maxRetries: optional(count), backoffMs: optional(record({ initial: optional(count), max: optional(count) })) }),
);

/** update's resources: any object (record refuses anything else); the Supervisor checks its fields. */
const resources: Check<Record<string, unknown>> = (value, path) => (isPlainObject(value) ? value : record({})(value, path));

/**
 * Every method the daemon serves and the arguments it takes. A request is checked
 * against this before it reaches the Supervisor, which still checks ids, signals
 * and states itself (invalid-id, invalid-signal, invalid-state).
 */
const METHODS = {
  // process.args is optional for a bundle's changes; the Supervisor requires it of a process.
  create: args(record({ id: string, process: optional(record({ args: optional(arrayOf(string)), env: pairs, cwd, inheritEnv })), bundle: optional(string), labels: pairs, restart })),
  start: args(string),
  exec: args(string, record({ execId: string, args: arrayOf(string), env: pairs, cwd, inheritEnv })),
  signal: args(string, string, stringOrInteger),
  pause: args(string),
  resume: args(string),
  delete: args(string, optional(record({ force: optional(boolean) }))),
  wait: args(string, optional(string)),
  stop: args(string, optional(record({ signal: optional(stringOrInteger), timeoutMs: optional(count) }))),
  list: args(),
  get: args(string),
  logs: args(string, optional(string), optional(record({ tailBytes: optional(count) }))),
  viewerUrl: args(),
  update: args(string, resources),
  stats: args(string),
  top: args(string),
  spec: args(string),
  events: args(
    record({ after: optional(count), since: optional(time), id: optional(string), types: optional(arrayOf(oneOf(EVENT_TYPES))), storedOnly: optional(boolean) }),
  ),
} satisfies Record<RpcMethod | 'events', Check<unknown[]>>;

type Methods = typeof METHODS;
export type Request = { [M in keyof Methods]: { id: number; method: M; params: ReturnType<Methods[M]> } }[keyof Methods];

export type Decoded = { request: Request } | { id: number | null; error: ErrorData };

const refuse = (id: number | null, message: string): Decoded => ({ id, error: { code: 'invalid-spec', message } });

/** One request line, as bytes off the wire: the request it holds, or the error to answer it with. */
export function decodeRequest(line: Buffer): Decoded {
  const text = decodeUtf8(line);
  if (text === undefined) return refuse(null, 'a request must be valid UTF-8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return refuse(null, 'a request must be one line of JSON');
  }
  if (!isPlainObject(parsed)) return refuse(null, 'a request must be a JSON object: {"id":1,"method":"list","params":[]}');
  const { id, method, params = [] } = parsed;
  if (!Number.isSafeInteger(id)) return refuse(null, 'a request needs an integer id');
  if (typeof method !== 'string' || !Object.hasOwn(METHODS, method)) {
    return refuse(id as number, `unknown method ${JSON.stringify(String(method).slice(0, 40))}`);
  }
  try {
    const check = METHODS[method as keyof Methods] as Check<unknown[]>;
    return { request: { id, method, params: check(params, `${method} params`) } as Request };
  } catch (err) {
    return { id: id as number, error: toErrorData(err) };
  }
}
