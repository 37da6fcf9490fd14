import { readFileSync } from 'node:fs';

/** A file's text, or undefined if it is not there (or no longer: a process's /proc entry, a shim's record). */
export function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The fields of /proc/<pid>/stat after the command name, from the state letter (field 3) on. */
function statFields(pid: number): string[] | undefined {
  const stat = readIfPresent(`/proc/${pid}/stat`);
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Start time (field 22 of /proc/<pid>/stat, in clock ticks since boot), or undefined if no such process. */
export function processStartTime(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields && Number(fields[19]);
}

/** A process's command line, space-joined (undefined if it is gone). */
export function commandLine(pid: number): string | undefined {
  return readIfPresent(`/proc/${pid}/cmdline`)?.split('\0').filter(Boolean).join(' ');
}

/** The same process as the one recorded, not a later one that reused its pid (containerd compared start times too). */
export function isSameProcess(pid: number, startTime: number): boolean {
  return pid > 0 && processStartTime(pid) === startTime;
}

/** Alive and not a zombie: a process that has died but is not yet reaped no longer runs. */
export function processRunning(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state !== undefined && state !== 'Z' && state !== 'X';
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Signals a process group whose leader is confirmed (pid and start time) right
 * before; false if it is gone or its pid now names another process.
 */
export function killConfirmedGroup(pid: number, startTime: number, signal: NodeJS.Signals | number): boolean {
  return isSameProcess(pid, startTime) && killGroup(pid, signal);
}

/** Signals one process confirmed (pid and start time) right before; false if it is gone or another one. */
export function killConfirmed(pid: number, startTime: number, signal: NodeJS.Signals | number): boolean {
  if (!isSameProcess(pid, startTime)) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Signals a whole process group; false if it no longer exists. */
export function killGroup(pid: number, signal: NodeJS.Signals | number): boolean {
  if (pid <= 0) return false; // not started yet: -0 would be our own group
  try {
    process.kill(-pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}
