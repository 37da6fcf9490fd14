import { constants } from 'node:os';
import { BerthError } from './errors.js';
import { RLIM_INFINITY, RLIMIT_TYPES, type LogLimits, type ProcessRlimit, type ProcessSpec, type ProcessUser, type RestartPolicy } from './types.js';
import { DEFAULT_BACKOFF_MS } from './machines/restart-policy.js';

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
  throw new BerthError('invalid-signal', `unknown signal ${shown(signal)}`);
}

/** Name of a signal number, for exit records ('SIGKILL' for 9). */
export function signalName(number: number): string | undefined {
  return Object.keys(SIGNALS).find((key) => SIGNALS[key] === number);
}

/** The kernel's limit on one argument or `KEY=value` string (MAX_ARG_STRLEN, its NUL included). */
const MAX_ARG_BYTES = 128 * 1024 - 1;
/** All of a process's args and env together: room is left for the supervisor's own environment under ARG_MAX. */
const MAX_SPEC_BYTES = 1024 * 1024;
/** All of a container's labels together: they are stored with every journal replay of the container. */
const MAX_LABELS_BYTES = 64 * 1024;

const spec = (message: string) => new BerthError('invalid-spec', message);

/** A value as it may appear in a message: short, whatever it is. */
export function shown(value: unknown): string {
  if (typeof value === 'string') return value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}…` : JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value).slice(0, 40);
}

/** A plain object: not null, an array, a Map or a class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && [Object.prototype, null].includes(Object.getPrototypeOf(value));
}

/** An options object: a plain object; `undefined` reads as `{}`. */
export function optionsObject(value: unknown, what: string, required = false): Record<string, unknown> {
  if (value === undefined && !required) return {};
  if (!isPlainObject(value)) throw spec(`${what} must be a plain object, not ${shown(value)}`);
  return value;
}

/** A string the OS can take: no NUL byte (C strings end there), and not larger than one argument may be. */
export function osString(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw spec(`${what} must be a non-empty string, not ${shown(value)}`);
  if (value.includes('\0')) throw spec(`${what} may not contain a NUL byte`);
  if (Buffer.byteLength(value) > MAX_ARG_BYTES) throw spec(`${what} is longer than ${MAX_ARG_BYTES} bytes`);
  return value;
}

/** An array of such strings (runc arguments, namespace names). */
export function osStrings(value: unknown, what: string): string[] {
  if (!Array.isArray(value)) throw spec(`${what} must be an array of strings, not ${shown(value)}`);
  return value.map((entry: unknown, i) => osString(entry, `${what}[${i}]`));
}

export function optionalBoolean(value: unknown, what: string): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') throw spec(`${what} must be true or false, not ${shown(value)}`);
  return value;
}

/** An integer in [min, max]; NaN, Infinity, fractions and strings are refused. */
export function integerIn(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw spec(`${what} must be an integer from ${min} to ${max}, not ${shown(value)}`);
  }
  return value;
}

/** A string → string map (env, labels), copied so later changes by the caller cannot reach berth. */
function stringMap(value: unknown, what: string, checkKey: (key: string) => void): Record<string, string> {
  const entries = Object.entries(optionsObject(value, what));
  for (const [key, entry] of entries) {
    checkKey(key);
    if (typeof entry !== 'string') throw spec(`${what}.${key.slice(0, 40)} must be a string, not ${shown(entry)}`);
    if (entry.includes('\0')) throw spec(`${what}.${key.slice(0, 40)} may not contain a NUL byte`);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

export function validateEnv(value: unknown): Record<string, string> {
  const env = stringMap(value, 'env', (key) => {
    if (key === '' || key.includes('=') || key.includes('\0')) throw spec(`env name ${shown(key)} must be non-empty, without '=' or NUL`);
  });
  for (const [key, entry] of Object.entries(env)) osString(`${key}=${entry}`, `env ${key.slice(0, 40)}`);
  return env;
}

export function validateLabels(value: unknown): Record<string, string> {
  const labels = stringMap(value, 'labels', (key) => {
    if (key === '' || key.includes('\0')) throw spec(`label name ${shown(key)} must be non-empty, without NUL`);
  });
  if (Buffer.byteLength(JSON.stringify(labels)) > MAX_LABELS_BYTES) throw spec(`labels are larger than ${MAX_LABELS_BYTES} bytes`);
  return labels;
}

/** args, env, cwd, user and rlimits of a process (init or exec), each checked so that nothing fails later at start. */
export function validateProcessFields(value: Record<string, unknown>, what: string): ProcessSpec {
  const { args, env, cwd, user, rlimits, inheritEnv } = value;
  if (!Array.isArray(args) || args.length === 0) throw spec(`${what}.args must be a non-empty array of strings`);
  // Only the program may not be empty: an empty argument is an ordinary one.
  for (const [i, arg] of args.entries()) if (i === 0 || arg !== '') osString(arg, `${what}.args[${i}]`);
  const checked: ProcessSpec = { args: [...(args as string[])] };
  if (env !== undefined) checked.env = validateEnv(env);
  if (cwd !== undefined) checked.cwd = osString(cwd, `${what}.cwd`);
  if (user !== undefined) checked.user = validateUser(user, `${what}.user`);
  if (rlimits !== undefined) checked.rlimits = validateRlimits(rlimits, `${what}.rlimits`);
  if (inheritEnv !== undefined) checked.inheritEnv = optionalBoolean(inheritEnv, `${what}.inheritEnv`);
  const strings = [...checked.args, ...Object.entries(checked.env ?? {}).flat()];
  if (strings.reduce((sum, s) => sum + Buffer.byteLength(s) + 1, 0) > MAX_SPEC_BYTES) {
    throw spec(`${what}: args and env together are larger than ${MAX_SPEC_BYTES} bytes`);
  }
  return checked;
}

/** A process of a container: `init` or an exec id. */
export function validateProcessId(processId: unknown): string {
  return processId === INIT ? INIT : validateId(processId, 'exec');
}

/** The largest uid or gid: (uid_t)-1 means "unchanged" to setuid(2), never a user. */
const MAX_ID = 2 ** 32 - 2;
/** The kernel's NGROUPS_MAX. */
const MAX_GROUPS = 65_536;

/** Keys of an object that the API does not know: refused, so nothing asked for is silently ignored. */
function onlyKeys(value: Record<string, unknown>, keys: readonly string[], what: string): void {
  const unknown = Object.keys(value).find((key) => !keys.includes(key));
  if (unknown !== undefined) throw spec(`${what}.${unknown.slice(0, 40)} is not supported; ${what} takes ${keys.join(', ')}`);
}

/** OCI's process.user, copied: uid and gid, and the supplementary groups (none unless given). */
export function validateUser(value: unknown, what: string): ProcessUser {
  const user = optionsObject(value, what, true);
  onlyKeys(user, ['uid', 'gid', 'additionalGids'], what);
  const checked: ProcessUser = { uid: integerIn(user.uid, `${what}.uid`, 0, MAX_ID), gid: integerIn(user.gid, `${what}.gid`, 0, MAX_ID) };
  if (user.additionalGids !== undefined) {
    const gids = user.additionalGids;
    if (!Array.isArray(gids) || gids.length > MAX_GROUPS) throw spec(`${what}.additionalGids must be an array of at most ${MAX_GROUPS} gids`);
    checked.additionalGids = gids.map((gid: unknown, i) => integerIn(gid, `${what}.additionalGids[${i}]`, 0, MAX_ID));
  }
  return checked;
}

/** One limit: a safe integer, or RLIM_INFINITY (what OCI's 18446744073709551615 is as a JavaScript number). */
function rlimitValue(value: unknown, what: string): number {
  if (value === RLIM_INFINITY) return value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw spec(`${what} must be an integer from 0 to 2^53-1, or RLIM_INFINITY (18446744073709551615), not ${shown(value)}`);
  }
  return value;
}

/** OCI's process.rlimits, copied: known types, each at most once, soft <= hard. */
export function validateRlimits(value: unknown, what: string): ProcessRlimit[] {
  if (!Array.isArray(value) || value.length > RLIMIT_TYPES.length) throw spec(`${what} must be an array of at most ${RLIMIT_TYPES.length} rlimits`);
  const seen = new Set<string>();
  return value.map((entry: unknown, i) => {
    const where = `${what}[${i}]`;
    const rlimit = optionsObject(entry, where, true);
    onlyKeys(rlimit, ['type', 'soft', 'hard'], where);
    const type = rlimit.type as ProcessRlimit['type'];
    if (!RLIMIT_TYPES.includes(type)) throw spec(`${where}.type ${shown(rlimit.type)} is not one of ${RLIMIT_TYPES.join(', ')}`);
    if (seen.has(type)) throw spec(`${where}: ${type} is given twice`);
    seen.add(type);
    const soft = rlimitValue(rlimit.soft, `${where}.soft`);
    const hard = rlimitValue(rlimit.hard, `${where}.hard`);
    if (soft > hard) throw spec(`${where}: the soft limit of ${type} (${soft}) is above its hard limit (${hard})`);
    return { type, soft, hard };
  });
}

/** The smallest log berth rotates: a rotation per few lines would cost more than it bounds. */
export const MIN_LOG_BYTES = 4096;
const MAX_LOG_FILES_KEPT = 1000;

/** `{ maxBytes, keep }`: keep ≥ 1, so the start of the current file is always known (see log-generations.ts). */
export function validateLogLimits(value: unknown, what: string): LogLimits {
  const limits = optionsObject(value, what, true);
  onlyKeys(limits, ['maxBytes', 'keep'], what);
  const { maxBytes, keep } = limits;
  return {
    maxBytes: integerIn(maxBytes, `${what}.maxBytes`, MIN_LOG_BYTES, Number.MAX_SAFE_INTEGER),
    keep: integerIn(keep, `${what}.keep`, 1, MAX_LOG_FILES_KEPT),
  };
}

const RESTART_POLICIES = ['no', 'on-failure', 'always', 'unless-stopped'];
/** The longest delay a Node timer honours (2^31 - 1 ms); a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** `create`'s `restart`, with its defaults: undefined for none (`policy: 'no'`, or no option). */
export function validateRestart(value: unknown): RestartPolicy | undefined {
  if (value === undefined) return undefined;
  const { policy, maxRetries, backoffMs } = optionsObject(value, 'restart', true);
  if (!RESTART_POLICIES.includes(policy as string)) throw spec(`restart.policy must be one of ${RESTART_POLICIES.join(', ')}, not ${shown(policy)}`);
  if (policy === 'no') {
    if (maxRetries !== undefined || backoffMs !== undefined) throw spec("restart.maxRetries and restart.backoffMs mean nothing with policy 'no'");
    return undefined;
  }
  const backoff = optionsObject(backoffMs, 'restart.backoffMs');
  const initial = backoff.initial === undefined ? DEFAULT_BACKOFF_MS.initial : integerIn(backoff.initial, 'restart.backoffMs.initial', 1, MAX_TIMER_MS);
  const max = backoff.max === undefined ? Math.max(initial, DEFAULT_BACKOFF_MS.max) : integerIn(backoff.max, 'restart.backoffMs.max', initial, MAX_TIMER_MS);
  const checked: RestartPolicy = { policy: policy as RestartPolicy['policy'], backoffMs: { initial, max } };
  if (maxRetries !== undefined) checked.maxRetries = integerIn(maxRetries, 'restart.maxRetries', 1, MAX_TIMER_MS);
  return checked;
}
