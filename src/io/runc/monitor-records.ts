import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExitInfo } from '../../types.js';
import { exitFrom } from '../os/exit-status.js';
import { readIfPresent } from '../os/os-process.js';

/**
 * What one launch of a process's conmon leaves on disk, in a directory of its
 * own (`<processId>.<token>`): conmon's pid file, runc's pid file, conmon's exit
 * dir, its persist dir (also its cwd: conmon drops `oom` in both) and berth's
 * record of both pids with their start times. A conmon from an
 * earlier attempt (one that timed out, or a reused exec id) writes into its own
 * attempt's directory, so its exit can never be read as a later attempt's.
 * `<processId>.attempt` names the current attempt; it is written before conmon runs.
 */
export interface Attempt {
  dir: string;
  exitDir: string;
  /** conmon's persist dir (`-0`) and cwd: its `oom` and `exit` files land here, and nowhere else. */
  persistDir: string;
  pidFile: string;
  conmonPidFile: string;
  /** `<pid> <start time> <conmon pid> <conmon start time>`, written by berth once conmon reported. */
  recordFile: string;
}

export const ATTEMPT_SUFFIX = '.attempt';
const TOKEN = /^[0-9a-f]{12}$/;

function attemptAt(containerDir: string, processId: string, token: string): Attempt {
  const dir = join(containerDir, `${processId}.${token}`);
  return { dir, exitDir: join(dir, 'exit'), persistDir: join(dir, 'persist'), pidFile: join(dir, 'pid'), conmonPidFile: join(dir, 'conmon.pid'), recordFile: join(dir, 'record') };
}

/** A fresh attempt directory, made current before anything is launched into it. */
export function newAttempt(containerDir: string, processId: string): Attempt {
  const token = randomBytes(6).toString('hex');
  const attempt = attemptAt(containerDir, processId, token);
  mkdirSync(attempt.exitDir, { recursive: true, mode: 0o700 });
  mkdirSync(attempt.persistDir, { mode: 0o700 });
  writeAtomically(join(containerDir, `${processId}${ATTEMPT_SUFFIX}`), `${token}\n`);
  return attempt;
}

/** The current attempt of a process, or undefined if none (or its pointer is not one berth wrote). */
export function currentAttempt(containerDir: string, processId: string): Attempt | undefined {
  const token = readIfPresent(join(containerDir, `${processId}${ATTEMPT_SUFFIX}`))?.trim();
  return token !== undefined && TOKEN.test(token) ? attemptAt(containerDir, processId, token) : undefined;
}

/** Forgets a launch that failed: its pointer and its directory (what it wrote is of no process that ran). */
export function dropAttempt(containerDir: string, processId: string, attempt: Attempt): void {
  if (currentAttempt(containerDir, processId)?.dir === attempt.dir) rmSync(join(containerDir, `${processId}${ATTEMPT_SUFFIX}`), { force: true });
  rmSync(attempt.dir, { recursive: true, force: true });
}

function writeAtomically(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

const MAX_PID = 4_194_304; // the kernel's pid_max ceiling

/** A pid file's pid, or undefined if it is missing, truncated or not a pid. */
export function readPid(path: string): number | undefined {
  const text = readIfPresent(path)?.trim();
  if (!text || !/^\d+$/.test(text)) return undefined;
  const pid = Number(text);
  return pid > 0 && pid <= MAX_PID ? pid : undefined;
}

export interface MonitorRecord {
  pid: number;
  /** -1 when unknown: a process that is not confirmed as its conmon's child is never signalled. */
  startTime: number;
  conmonPid: number;
  conmonStartTime: number;
}

export function writeRecord(attempt: Attempt, record: MonitorRecord): void {
  writeAtomically(attempt.recordFile, `${record.pid} ${record.startTime} ${record.conmonPid} ${record.conmonStartTime}\n`);
}

/** berth's record of an attempt, or undefined if missing or not four numbers (a start time may be -1, unknown). */
export function readMonitorRecord(attempt: Attempt): MonitorRecord | undefined {
  const fields = readIfPresent(attempt.recordFile)?.trim().split(' ');
  if (fields?.length !== 4 || !fields.every((f, i) => /^\d+$/.test(f) || (i % 2 === 1 && f === '-1'))) return undefined;
  const [pid, startTime, conmonPid, conmonStartTime] = fields.map(Number) as [number, number, number, number];
  return pid > 0 && conmonPid > 0 ? { pid, startTime, conmonPid, conmonStartTime } : undefined;
}

/**
 * conmon's exit file: the status (128+N for signal N) as text; its mtime is when
 * the process was reaped. Undefined while it is missing, empty or not a status
 * (conmon may be writing it); -1, conmon's "unknown", gives 255 with a reason.
 */
export function readExit(attempt: Attempt, containerId: string): ExitInfo | undefined {
  const path = join(attempt.exitDir, containerId);
  const text = readIfPresent(path)?.trim();
  if (!text || !/^-?\d{1,3}$/.test(text)) return undefined;
  const status = Number(text);
  if (status < -1 || status > 255) return undefined;
  let exitedAt: Date;
  try {
    exitedAt = statSync(path).mtime;
  } catch {
    return undefined; // removed under us (the container is being deleted)
  }
  if (status < 0) return exitFrom(null, null, exitedAt);
  return status > 128 && status < 128 + 65 ? exitFrom(null, status - 128, exitedAt) : exitFrom(status, null, exitedAt);
}
