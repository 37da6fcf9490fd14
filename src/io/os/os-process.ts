import { readFileSync } from 'node:fs';
import { BerthError } from '../../errors.js';

/**
 * A file's text, or undefined if it is not there (or no longer: a process's
 * /proc entry, a shim's record). Any other failure to read it is not taken for
 * absence: it is reported.
 */
export function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return undefined;
    throw new BerthError('runtime-error', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
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

/** A process's parent (field 4 of /proc/<pid>/stat), or undefined if no such process. */
export function parentPid(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields && Number(fields[1]);
}

/** A process's scheduler state letter ('R', 'S', 'T', 'Z', ...), or undefined if no such process. */
export function processState(pid: number): string | undefined {
  return statFields(pid)?.[0];
}

/** A process's command line, space-joined (undefined if it is gone). */
export function commandLine(pid: number): string | undefined {
  return readIfPresent(`/proc/${pid}/cmdline`)?.split('\0').filter(Boolean).join(' ');
}

/** The same process as the one recorded, not a later one that reused its pid (containerd compared start times too). */
export function isSameProcess(pid: number, startTime: number): boolean {
  return pid > 0 && processStartTime(pid) === startTime;
}

/** The scheduler state letter of the process recorded (pid and start time, in one read), or undefined if it is gone or its pid names another. */
export function confirmedState(pid: number, startTime: number): string | undefined {
  const fields = pid > 0 ? statFields(pid) : undefined;
  return fields && Number(fields[19]) === startTime ? fields[0] : undefined;
}

/** Alive and not a zombie: a process that has died but is not yet reaped no longer runs. */
export function processRunning(pid: number): boolean {
  const state = processState(pid);
  return state !== undefined && state !== 'Z' && state !== 'X';
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
  return isSameProcess(pid, startTime) && sent(pid, signal);
}

/** Signals a whole process group; false if it no longer exists. */
export function killGroup(pid: number, signal: NodeJS.Signals | number): boolean {
  return pid > 0 && sent(-pid, signal); // pid 0 is not started yet: -0 would be our own group
}

/**
 * process.kill that says whether the signal went out: false if the target is
 * gone, or if we may not signal it (EPERM: it changed its credentials), which
 * is also warned about, since it keeps running unsupervised.
 */
function sent(target: number, signal: NodeJS.Signals | number): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EPERM') process.emitWarning(`berth may not signal ${target < 0 ? `process group ${-target}` : `process ${target}`} (${signal}): it runs on`, { code: 'BERTH_SIGNAL_DENIED' });
    else if (code !== 'ESRCH') throw err;
    return false;
  }
}
