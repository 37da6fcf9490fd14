import type { ProcessSpec } from '../../types.js';

/** The PATH of `runc spec`, which runc and ctr give a process whose environment names none. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The environment a process starts with: exactly its spec's `env`, on top of
 * the supervisor's own only when the spec asks to inherit it, and the default
 * PATH when it names none. The executable is looked up on this PATH too. (TERM,
 * which runc and ctr add for a process with a terminal, belongs here once a
 * process can have one.)
 */
export function processEnv(spec: ProcessSpec): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...(spec.inheritEnv ? process.env : {}), ...spec.env };
  env.PATH ??= DEFAULT_PATH;
  return env;
}
