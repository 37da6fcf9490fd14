import { randomBytes } from 'node:crypto';
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { ExitInfo } from '../../types.js';
import { exitFrom } from '../os/exit-status.js';
import { readIfPresent } from '../os/os-process.js';

/** Bytes per line of `<proc>.record`; berth-shim.c's RECORD_LINE. */
const RECORD_LINE = 128;

/** The process a monitor started, and the monitor itself, each with its start time. */
export interface StartRecord {
  pid: number;
  startTime: number;
  monitorPid: number;
  monitorStartTime: number;
  /** When it was forked, in boot-clock nanoseconds. */
  startedNs: bigint;
}

/** Its end, and when it was reaped in boot-clock nanoseconds (comparable with `startedNs`). */
export interface ExitRecord {
  exit: ExitInfo;
  exitedNs: bigint;
}

/** `<proc>.record` as read back: what one start attempt (its generation) left. */
export interface ProcessRecord {
  started?: StartRecord;
  exited?: ExitRecord;
}

/** `<proc>.record`, one per process in its container's state dir. */
export const RECORD_SUFFIX = '.record';

function line(text: string): string {
  return `${text.padEnd(RECORD_LINE - 1, ' ')}\n`;
}

/**
 * Reserves the record of a start attempt at its full size, on disk (fsync),
 * before the shim is asked to start anything: the monitor then writes its
 * start and exit in place, so a full disk cannot lose an exit. The file is
 * replaced whole, so a monitor of an earlier attempt writes only into the old
 * one, which nobody reads. Returns the attempt's generation.
 */
export function reserveRecord(dir: string, processId: string): string {
  const generation = randomBytes(8).toString('hex');
  const path = join(dir, `${processId}${RECORD_SUFFIX}`);
  const fd = openSync(`${path}.tmp`, 'w', 0o600);
  try {
    // Written whole now, so its blocks are the file's before the process runs; no fsync: like the exit
    // written into it later, it must survive a crash of the supervisor, not a power loss.
    writeSync(fd, line(generation) + line(''));
    renameSync(`${path}.tmp`, path);
  } catch (err) {
    rmSync(`${path}.tmp`, { force: true }); // a full disk leaves no half-reserved record behind
    throw err;
  } finally {
    closeSync(fd);
  }
  return generation;
}

const START_LINE = /^([0-9a-f]{16}) ([1-9]\d{0,9}) (\d{1,20}) ([1-9]\d{0,9}) (\d{1,20}) (\d{1,20}) *$/;
const EXIT_LINE = /^([0-9a-f]{16}) (-1|\d{1,3}) (\d{1,2}) (\d{1,15}) (\d{1,20}) *$/;

/**
 * Reads `<proc>.record` back. Anything that does not parse — a missing,
 * truncated or garbled file, or an exit line of another generation than the
 * start line — counts as not written: a bad record never invents an exit.
 */
export function readRecord(dir: string, processId: string): ProcessRecord {
  const [first = '', second = ''] = (readIfPresent(join(dir, `${processId}${RECORD_SUFFIX}`)) ?? '').split('\n');
  const start = START_LINE.exec(first);
  if (!start) return {};
  const [, generation, pid, startTime, monitorPid, monitorStartTime, startedNs] = start as unknown as string[];
  const started: StartRecord = {
    pid: Number(pid),
    startTime: Number(startTime),
    monitorPid: Number(monitorPid),
    monitorStartTime: Number(monitorStartTime),
    startedNs: BigInt(startedNs!),
  };
  const end = EXIT_LINE.exec(second);
  if (!end || end[1] !== generation) return { started };
  const code = Number(end[2]);
  const signal = Number(end[3]);
  if (code > 255 || (code < 0) === (signal === 0) || signal > 64) return { started };
  return { started, exited: { exit: exitFrom(code < 0 ? null : code, signal, new Date(Number(end[4]))), exitedNs: BigInt(end[5]!) } };
}
