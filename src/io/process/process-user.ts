import { BerthError } from '../../errors.js';
import type { ProcessSpec } from '../../types.js';

/**
 * `user` is refused unless the supervisor runs as root: berth-shim drops to the
 * given ids with setgroups, setgid and setuid, which only root may call. Checked
 * at create and exec, before anything is written, rather than failing at start.
 */
export function checkUserAllowed(spec: ProcessSpec, what: string): void {
  const euid = process.geteuid?.();
  if (spec.user && euid !== 0) {
    throw new BerthError('unsupported', `${what}.user: running a process as another user needs a supervisor running as root; this one runs as uid ${euid}`);
  }
}

/** An exec runs as its container's user, with its container's rlimits, unless it names its own. */
export function inheritIdentity(exec: ProcessSpec, container: ProcessSpec): Pick<ProcessSpec, 'user' | 'rlimits'> {
  const user = exec.user ?? container.user;
  const rlimits = exec.rlimits ?? container.rlimits;
  return { ...(user ? { user } : {}), ...(rlimits ? { rlimits } : {}) };
}
