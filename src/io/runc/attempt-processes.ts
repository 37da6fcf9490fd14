import { readdirSync } from 'node:fs';
import { isSameProcess, killConfirmed, parentPid, processStartTime, readIfPresent } from '../os/os-process.js';
import type { Attempt } from './monitor-records.js';

/** A process found in /proc, with the start time that confirms it before any signal. */
export interface NamedProcess {
  pid: number;
  startTime: number;
  args: string[];
}

/** Every process but this one that `keep` accepts, with its start time. */
function processesWhere(keep: (pid: number, args: string[]) => boolean): NamedProcess[] {
  const found: NamedProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const args = readIfPresent(`/proc/${pid}/cmdline`)?.split('\0') ?? [];
    if (!keep(pid, args)) continue;
    const startTime = processStartTime(pid);
    if (startTime !== undefined) found.push({ pid, startTime, args });
  }
  return found;
}

/** Every process whose command line has an argument starting with `fragment`: conmons and runc calls of this state dir. */
export const processesNaming = (fragment: string) => processesWhere((_, args) => args.some((arg) => arg.startsWith(fragment)));

/** A process's children: what a conmon monitors (it is their subreaper). */
const childrenOf = (parent: number) => processesWhere((pid) => parentPid(pid) === parent);

/** Whether a process is the conmon of an attempt: only that conmon names the attempt's exit dir. */
export const isAttemptConmon = (pid: number, attempt: Attempt) =>
  readIfPresent(`/proc/${pid}/cmdline`)?.split('\0').includes(attempt.exitDir) ?? false;

/**
 * The start time of the process a conmon reported, if that process is the
 * conmon's child (the conmon confirmed by its start time); otherwise -1,
 * unknown: the process may have ended and its pid gone to another, which must
 * never be signalled as it.
 */
export function childStartTime(pid: number, conmonPid: number, conmonStartTime: number): number {
  const startTime = processStartTime(pid);
  if (startTime === undefined || parentPid(pid) !== conmonPid) return -1;
  // Both still the processes seen: the parent read was of this pid, and of this conmon.
  return isSameProcess(pid, startTime) && isSameProcess(conmonPid, conmonStartTime) ? startTime : -1;
}

/**
 * A process's descendants, each stopped (pid and start time confirmed) as it is
 * found, so that none can fork, exit into a reparenting or exec further while
 * the tree is walked: a `runc exec` caught half-way still holds the process it
 * is starting in the container as its own child.
 */
function stoppedDescendants(root: number): NamedProcess[] {
  const found: NamedProcess[] = [];
  const queue = childrenOf(root);
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    if (!killConfirmed(next.pid, next.startTime, 'SIGSTOP')) continue;
    found.push(next);
    queue.push(...childrenOf(next.pid));
  }
  return found;
}

/**
 * SIGKILLs what the conmon of an attempt monitors: all of its descendants (runc,
 * and the process runc created or exec'd, with whatever that started), each
 * confirmed by pid and start time, and only while that conmon is confirmed too.
 */
export function killMonitored(attempt: Attempt): void {
  for (const conmon of processesWhere((pid) => isAttemptConmon(pid, attempt))) {
    const tree = stoppedDescendants(conmon.pid);
    // Its pid now names another process: those were not its children, and go on as they were.
    const signal = isSameProcess(conmon.pid, conmon.startTime) ? 'SIGKILL' : 'SIGCONT';
    for (const proc of tree) killConfirmed(proc.pid, proc.startTime, signal);
  }
}

/**
 * Kills all of one launch: what its conmon monitors, then whatever names the
 * attempt dir (the conmon, a `runc create` or `runc exec` it started). The conmon
 * is stopped first so it starts nothing more, and killed last: a conmon killed
 * before its children leaves them to the container's init, running unknown to berth.
 */
export function killAttempt(attempt: Attempt): void {
  const named = processesNaming(`${attempt.dir}/`);
  for (const proc of named) killConfirmed(proc.pid, proc.startTime, 'SIGSTOP');
  killMonitored(attempt);
  for (const proc of named) killConfirmed(proc.pid, proc.startTime, 'SIGKILL');
}
