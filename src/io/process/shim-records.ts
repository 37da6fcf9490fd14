import { join } from 'node:path';
import type { ExitInfo } from '../../types.js';
import { exitFrom } from '../os/exit-status.js';
import { readIfPresent } from '../os/os-process.js';

/** `<proc>.pid` as berth-shim writes it: the process and its monitor, each with its start time. */
export interface PidRecord {
  pid: number;
  startTime: number;
  monitorPid: number;
  monitorStartTime: number;
}

export function readPidRecord(dir: string, processId: string): PidRecord | undefined {
  const fields = readIfPresent(join(dir, `${processId}.pid`))?.trim().split(' ').map(Number);
  if (!fields || fields.length !== 4 || fields.some((n) => !Number.isFinite(n))) return undefined;
  const [pid, startTime, monitorPid, monitorStartTime] = fields as [number, number, number, number];
  return { pid, startTime, monitorPid, monitorStartTime };
}

/** `<proc>.exit`: "<code> <signal> <unix ms>", code -1 when killed by the signal. */
export function readExitRecord(dir: string, processId: string): ExitInfo | undefined {
  const fields = readIfPresent(join(dir, `${processId}.exit`))?.trim().split(' ').map(Number);
  if (!fields || fields.length !== 3 || fields.some((n) => !Number.isFinite(n))) return undefined;
  const [code, signal, ms] = fields as [number, number, number];
  return exitFrom(code < 0 ? null : code, signal, new Date(ms));
}
