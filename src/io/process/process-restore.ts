import type { ExitInfo } from '../../types.js';
import { lostExit } from '../os/exit-status.js';
import { isSameProcess } from '../os/os-process.js';
import { readRecord, type StartRecord } from './shim-records.js';

/** What became of a process while no supervisor was watching, judged from what berth-shim left on disk. */
export type Fate =
  | { kind: 'never-started' }
  | { kind: 'running'; started: StartRecord }
  | { kind: 'exited'; started: StartRecord; exit: ExitInfo; exitedNs?: bigint };

/**
 * - an exit in its record: it exited, with that status and time;
 * - else a live monitor (same pid *and* start time, so a reused pid is not
 *   mistaken for it): still running, to be adopted;
 * - else the monitor died without a word: 'shim-lost' (255), and what is left of
 *   the process is killed, since nobody could ever report its end.
 */
export function judgeProcess(dir: string, processId: string, killLost: (started: StartRecord) => void): Fate {
  const { started, exited } = readRecord(dir, processId);
  if (!started) return { kind: 'never-started' };
  if (exited) return { kind: 'exited', started, ...exited };
  if (isSameProcess(started.monitorPid, started.monitorStartTime)) return { kind: 'running', started };
  // The monitor may have written its exit just now, on its way out.
  const late = readRecord(dir, processId).exited;
  if (late) return { kind: 'exited', started, ...late };
  if (isSameProcess(started.pid, started.startTime)) killLost(started);
  return { kind: 'exited', started, exit: lostExit('shim-lost') };
}
