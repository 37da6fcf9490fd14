import { BerthError } from '../../errors.js';
import { EVENT_TYPES, type CreateOptions, type EventType, type EventsQuery, type ExecOptions, type LinuxResources, type StopOptions } from '../../types.js';
import { isPlainObject } from '../../validate.js';
import { arrayOf, boolean, checkedLater, count, oneOf, optional, record, string, stringMap, stringOrInteger, type Check } from './checks.js';

/**
 * The shapes of the daemon's request bodies and query strings, checked where a
 * request enters: an unknown field or a wrong type is refused with invalid-spec
 * before anything reaches the Supervisor, which checks ids, signals, states and
 * every value's range itself (validate.ts).
 */

const pairs = optional(stringMap);
const processFields = {
  args: arrayOf(string),
  env: pairs,
  cwd: optional(string),
  inheritEnv: optional(boolean),
  user: optional(checkedLater),
  rlimits: optional(checkedLater),
};
const restart = optional(
  record({ policy: string, maxRetries: optional(count), backoffMs: optional(record({ initial: optional(count), max: optional(count) })) }),
);

export const createBody = record({
  id: string,
  // args is optional for a bundle's changes (the bundle has its own); the Supervisor requires it of a process.
  process: optional(record({ ...processFields, args: optional(arrayOf(string)) })),
  bundle: optional(string),
  labels: pairs,
  restart,
  resources: optional(checkedLater),
  logs: optional(checkedLater),
}) as Check<CreateOptions>;

export const execBody = record({ execId: string, ...processFields }) as Check<ExecOptions>;
export const killBody = record({ signal: stringOrInteger, process: optional(string) });
export const stopBody = optional(record({ signal: optional(stringOrInteger), timeoutMs: optional(count) })) as Check<StopOptions | undefined>;
/** update's body: resources, any object; the Supervisor checks its fields. */
export const resourcesBody: Check<LinuxResources> = (value, path) => (isPlainObject(value) ? value : record({})(value, path));
/** Routes that take no body: an empty one, or `{}`. */
export const noBody = optional(record({}));

/** A query string's parameters, each read by its own parser; a parameter not listed is refused. */
export type Query = URLSearchParams;
type Parse<T> = (values: string[], name: string) => T;

const one = (values: string[], name: string): string => {
  if (values.length > 1) throw new BerthError('invalid-spec', `query parameter ${name} is given ${values.length} times`);
  return values[0]!;
};
export const queryString: Parse<string> = one;
export const queryCount: Parse<number> = (values, name) => {
  const text = one(values, name);
  const value = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value)) throw new BerthError('invalid-spec', `query parameter ${name} must be a non-negative integer`);
  return value;
};
export const queryBoolean: Parse<boolean> = (values, name) => {
  const text = one(values, name);
  if (text !== 'true' && text !== 'false' && text !== '1' && text !== '0') throw new BerthError('invalid-spec', `query parameter ${name} must be true or false`);
  return text === 'true' || text === '1';
};
const queryTime: Parse<Date> = (values, name) => {
  const date = new Date(one(values, name));
  if (Number.isNaN(date.getTime())) throw new BerthError('invalid-spec', `query parameter ${name} must be an ISO 8601 time`);
  return date;
};
const queryTypes: Parse<EventType[]> = (values, name) => values.map((value) => oneOf(EVENT_TYPES)(value, `query parameter ${name}`));

/** The parameters a route takes, read from its query string: each present one parsed, any other refused. */
export function readQuery<S extends Record<string, Parse<unknown>>>(query: Query, shape: S): { [K in keyof S]?: ReturnType<S[K]> } {
  const read: Record<string, unknown> = {};
  for (const name of new Set(query.keys())) {
    if (!Object.hasOwn(shape, name)) throw new BerthError('invalid-spec', `unknown query parameter ${JSON.stringify(name.slice(0, 40))}`);
    read[name] = shape[name]!(query.getAll(name), name);
  }
  return read as { [K in keyof S]?: ReturnType<S[K]> };
}

/** `GET /events`: after, since, id, type (repeatable), follow; without a cursor, everything stored. */
export function eventsQuery(query: Query, lastEventId: string | undefined): EventsQuery {
  const { after, since, id, type, follow } = readQuery(query, { after: queryCount, since: queryTime, id: queryString, type: queryTypes, follow: queryBoolean });
  const events: EventsQuery = { storedOnly: !follow };
  // A reconnecting EventSource says where it was: that wins over the query's cursor.
  const resumed = lastEventId === undefined ? after : queryCount([lastEventId], 'Last-Event-ID');
  if (resumed !== undefined) events.after = resumed;
  if (since !== undefined) events.since = since;
  if (resumed === undefined && since === undefined && !follow) events.after = 0;
  if (id !== undefined) events.id = id;
  if (type !== undefined) events.types = type;
  return events;
}
