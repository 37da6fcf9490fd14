import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { INIT } from '../../validate.js';
import { isSameProcess, processStartTime } from '../os/os-process.js';
import { lostExit } from '../os/exit-status.js';
import type { StoredContainer } from '../journal/projection.js';
import { initExitJournaled, initLast, processesToRestore, type RestoredContainer } from '../runtime.js';
import { childStartTime, isAttemptConmon, killAttempt, killMonitored } from './attempt-processes.js';
import type { ExitWatch } from './exit-watch.js';
import { ATTEMPT_SUFFIX, currentAttempt, dropAttempt, readExit, readMonitorRecord, readPid, type Attempt, type MonitorRecord } from './monitor-records.js';
import { runtimeBundle } from './runc-bundle.js';
import type { RuncCli } from './runc-cli.js';
import { ENDED, type RuncContainer, type RuncProcess } from './runc-container.js';

/** What restoring a container works with: the runtime's own table, runc, and the exit watch. */
export interface RestoreContext {
  containersDir: string;
  containers: Map<string, RuncContainer>;
  runc: RuncCli;
  exits: ExitWatch;
  /** The container's status as `runc list` gave it before restore began (undefined: runc does not know it). */
  runcStatus: string | undefined;
}

/**
 * Re-adopts a container the registry knows: each process is watched again if its
 * conmon still runs, or its exit (conmon's, or 255 if none can be known) is
 * returned; whatever could never be reported is killed.
 */
export function restoreContainer(stored: StoredContainer, { containersDir, containers, runc, exits, runcStatus }: RestoreContext): RestoredContainer {
  const dir = join(containersDir, stored.id);
  const bundle = runtimeBundle(dir);
  // An OOM kill seen before the crash was journaled with its exit; one seen since is reported with the exit.
  const state: RuncContainer = { id: stored.id, dir, bundle, processes: new Map(), oomReported: stored.status === 'exited' };
  containers.set(stored.id, state);
  const restored: RestoredContainer = { id: stored.id, startedWhileDown: [], exits: [] };
  const lost = !existsSync(dir);
  mkdirSync(join(dir, 'sockets'), { recursive: true, mode: 0o700 });
  const journaled = new Set(stored.processes.map((p) => p.id));
  // Each launch names its attempt before conmon runs, so an exec whose start was never journaled is found too.
  for (const proc of processesToRestore(stored, dir, ATTEMPT_SUFFIX)) {
    if (proc.status === 'exited') {
      state.processes.set(proc.id, { ...ENDED, exited: true });
      continue;
    }
    const attempt = lost ? undefined : currentAttempt(dir, proc.id);
    const record = attempt && monitorRecord(state, attempt);
    if (!record) {
      if (proc.status === 'running' || lost) {
        // Whatever still runs of it could never be reported: it must not run on unknown to berth.
        if (attempt) killLost(runc, state, proc.id, attempt);
        restored.exits.push({ processId: proc.id, exit: lostExit(lost ? 'state-lost' : 'shim-lost') });
      } else if (attempt && !journaled.has(proc.id)) {
        // An exec launch cut short by the crash: it never ran as far as berth can tell, so nothing of it may run on.
        killAttempt(attempt);
        dropAttempt(dir, proc.id, attempt);
      }
      continue;
    }
    if (proc.status === 'created' && proc.id !== INIT && initExitJournaled(stored)) {
      // Launched by a dead supervisor after init's exit was journaled: its start can never be published in order.
      killAttempt(attempt);
      dropAttempt(dir, proc.id, attempt);
      continue;
    }
    const live: RuncProcess = { ...record, attempt, exited: false };
    state.processes.set(proc.id, live);
    const started = proc.id !== INIT || proc.status === 'running' || initStarted(attempt, runcStatus);
    if (proc.status === 'created' && started) restored.startedWhileDown.push({ processId: proc.id, pid: live.pid });
    const exit = readExit(attempt, state.id);
    if (exit) {
      live.exited = true;
      restored.exits.push({ processId: proc.id, exit });
    } else if (isSameProcess(live.conmonPid, live.conmonStartTime)) {
      exits.watchExit(state, proc.id, live);
      if (proc.id === INIT) exits.watchOom(state, attempt);
      exits.exitFileAppeared(state, proc.id);
    } else {
      live.exited = true;
      const recorded = readExit(attempt, state.id);
      if (!recorded) exits.killOrphan(state, proc.id, live);
      restored.exits.push({ processId: proc.id, exit: recorded ?? lostExit('shim-lost') });
    }
  }
  initLast(restored.exits);
  return restored;
}

/**
 * Whether a created init was started while no supervisor ran. runc create writes
 * init's pid before `runc start`, and berth runs `runc start` only once its own
 * record of the launch is written: without that record init was never started.
 * With it, runc knows; `runcStatus` is from the `runc list` made before restore,
 * so a launch that a dead supervisor left running and that created the container
 * only after that list is not in it: it is judged by the record alone.
 */
function initStarted(attempt: Attempt, runcStatus: string | undefined): boolean {
  return readMonitorRecord(attempt) !== undefined && runcStatus !== 'created';
}

/**
 * A launch as berth recorded it (pids with their start times). If the
 * supervisor died before writing that, conmon and runc's pid files are believed
 * only when what they say is checked: an exit conmon recorded in this attempt
 * (nothing left to signal then), or a live conmon naming this attempt that is
 * the process's parent.
 */
function monitorRecord(state: RuncContainer, attempt: Attempt): MonitorRecord | undefined {
  const ours = readMonitorRecord(attempt);
  if (ours) return ours;
  const pid = readPid(attempt.pidFile);
  const conmonPid = readPid(attempt.conmonPidFile);
  if (pid === undefined || conmonPid === undefined) return undefined;
  if (readExit(attempt, state.id)) return { ...ENDED, pid, conmonPid };
  const conmonStartTime = processStartTime(conmonPid);
  if (conmonStartTime === undefined || !isAttemptConmon(conmonPid, attempt)) return undefined;
  const startTime = childStartTime(pid, conmonPid, conmonStartTime);
  return startTime < 0 ? undefined : { pid, startTime, conmonPid, conmonStartTime };
}

/**
 * A process whose records cannot be read: init takes its whole container with
 * it; an exec's processes are found as the children of its conmon, each
 * confirmed by pid and start time.
 */
function killLost(runc: RuncCli, state: RuncContainer, processId: string, attempt: Attempt): void {
  if (processId === INIT) void runc.killAll(state.id, state.bundle);
  else killMonitored(attempt);
}
