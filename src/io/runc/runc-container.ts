import type { FSWatcher } from 'node:fs';
import type { Attempt, MonitorRecord } from './monitor-records.js';
import type { ConmonLogRotation } from './conmon-log-rotation.js';

/** One process of a container as the runtime tracks it: its launch's record, and whether its exit was reported. */
export interface RuncProcess extends MonitorRecord {
  /** Where this launch's conmon writes; undefined for a process restored as already exited. */
  attempt?: Attempt;
  exited: boolean;
  watcher?: FSWatcher;
}

/** A process known to have ended: nothing of it is ever signalled. */
export const ENDED: Omit<RuncProcess, 'exited'> = { pid: 0, startTime: -1, conmonPid: 0, conmonStartTime: -1 };

export interface RuncContainer {
  id: string;
  dir: string;
  /** The bundle runc runs: the user's, rewritten into the container's dir (runc-bundle.ts). */
  bundle: string;
  processes: Map<string, RuncProcess>;
  /** Watches init's persist dir: init's conmon sees every OOM kill of the container, for its whole life. */
  oomWatcher?: FSWatcher;
  oomReported: boolean;
  /** With `logs` limits: rotates its processes' logs while they run. */
  logRotation?: ConmonLogRotation;
}
