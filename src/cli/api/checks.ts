import { BerthError } from '../../errors.js';
import { isPlainObject } from '../../validate.js';

/**
 * Small checks for values that arrive over HTTP (JSON bodies): each returns the value typed, or
 * throws invalid-spec naming where it is and what it should be (never echoing
 * the value itself, which may be huge).
 */
export type Check<T> = (value: unknown, path: string) => T;

const kind = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value);

function expect<T>(what: string, test: (value: unknown) => boolean): Check<T> {
  return (value, path) => {
    if (!test(value)) throw new BerthError('invalid-spec', `${path} must be ${what}, got ${kind(value)}`);
    return value as T;
  };
}

export const string = expect<string>('a string', (v) => typeof v === 'string');
export const boolean = expect<boolean>('a boolean', (v) => typeof v === 'boolean');
export const count = expect<number>('a non-negative integer', (v) => Number.isSafeInteger(v) && (v as number) >= 0);
export const stringOrInteger = expect<string | number>('a string or an integer', (v) => typeof v === 'string' || Number.isSafeInteger(v));

export function arrayOf<T>(item: Check<T>): Check<T[]> {
  return (value, path) => expect<unknown[]>('an array', Array.isArray)(value, path).map((v, i) => item(v, `${path}[${i}]`));
}

/** An object of string values, as env and labels are. */
export const stringMap: Check<Record<string, string>> = (value, path) => {
  const map = expect<Record<string, unknown>>('an object', isPlainObject)(value, path);
  for (const key of Object.keys(map)) string(map[key], `${path}.${key}`);
  return map as Record<string, string>;
};

export function oneOf<T extends string>(choices: readonly T[]): Check<T> {
  return expect<T>(`one of ${choices.join(', ')}`, (v) => choices.includes(v as T));
}

/** An ISO time, as JSON carries a Date. */
export const time: Check<Date> = (value, path) => {
  const date = new Date(string(value, path));
  if (Number.isNaN(date.getTime())) throw new BerthError('invalid-spec', `${path} must be a time, got ${JSON.stringify(String(value).slice(0, 40))}`);
  return date;
};

/** Absent, or null (JSON's spelling of an omitted argument), reads as undefined so the API's defaults apply. */
export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (value, path) => (value === undefined || value === null ? undefined : check(value, path));
}

/** An object with exactly these fields (each optional one may be left out); any other field is refused. */
export function record<S extends Record<string, Check<unknown>>>(shape: S): Check<{ [K in keyof S]: ReturnType<S[K]> }> {
  return (value, path) => {
    const object = expect<Record<string, unknown>>('an object', isPlainObject)(value, path);
    const unknown = Object.keys(object).find((key) => !Object.hasOwn(shape, key));
    if (unknown !== undefined) throw new BerthError('invalid-spec', `${path} has an unknown field ${JSON.stringify(unknown.slice(0, 40))}`);
    const checked: Record<string, unknown> = {};
    for (const [key, check] of Object.entries(shape)) {
      const field = check(object[key], `${path}.${key}`);
      if (field !== undefined) checked[key] = field;
    }
    return checked as { [K in keyof S]: ReturnType<S[K]> };
  };
}

/** Left to the Supervisor, which checks it in full (resources, log limits, user, rlimits). */
export const checkedLater: Check<unknown> = (value) => value;
