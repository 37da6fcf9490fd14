import type { ExitInfo } from '../../types.js';
import { lostExit } from '../os/exit-status.js';
import { isSameProcess } from '../os/os-process.js';
import { readExitRecord, readPidRecord } from './shim-records.js';

/** What became of a process while no supervisor was watching, judged from what berth-shim left on disk. */
export type Fate =
  | { kind: 'never-started' }
  | { kind: 'running'; pid: number; monitorPid: number }
  | { kind: 'exited'; pid: number; exit: ExitInfo };

/**
 * - an exit file: it exited, with that status and time;
 * - else a live monitor (same pid *and* start time, so a reused pid is not
 *   mistaken for it): still running, to be adopted;
 * - else the monitor died without a word: 'shim-lost' (255), and what is left of
 *   the process is killed, since nobody could ever report its end.
 */
export function judgeProcess(dir: string, processId: string, killGroup: (pid: number) => void): Fate {
  const started = readPidRecord(dir, processId);
  if (!started) return { kind: 'never-started' };
  const recorded = readExitRecord(dir, processId);
  if (recorded) return { kind: 'exited', pid: started.pid, exit: recorded };
  if (isSameProcess(started.monitorPid, started.monitorStartTime)) {
    return { kind: 'running', pid: started.pid, monitorPid: started.monitorPid };
  }
  // The monitor may have written its exit file just now, on its way out.
  const late = readExitRecord(dir, processId);
  if (late) return { kind: 'exited', pid: started.pid, exit: late };
  if (isSameProcess(started.pid, started.startTime)) killGroup(started.pid);
  return { kind: 'exited', pid: started.pid, exit: lostExit('shim-lost') };
}
