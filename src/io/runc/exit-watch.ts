import { existsSync, mkdirSync, watch } from 'node:fs';
import type { Logger } from 'pino';
import { join } from 'node:path';
import type { ExitInfo } from '../../types.js';
import { INIT } from '../../validate.js';
import { isSameProcess, killConfirmed } from '../os/os-process.js';
import { lostExit } from '../os/exit-status.js';
import { guarded } from '../os/guarded.js';
import type { ExitListener } from '../runtime.js';
import { readExit, type Attempt } from './monitor-records.js';
import type { RuncCli } from './runc-cli.js';
import type { RuncContainer, RuncProcess } from './runc-container.js';

/**
 * How exits and OOM kills are learned: conmon's exit and `oom` files, watched
 * with inotify, and a watchdog for a conmon that died without writing one. Each
 * exit is reported exactly once, however it was learned.
 */
export class ExitWatch {
  private listener: ExitListener = () => {};
  private oomListener: (containerId: string) => void = () => {};

  constructor(
    private readonly runc: RuncCli,
    private readonly logger: Logger,
  ) {}

  onExit(listener: ExitListener): void {
    this.listener = listener;
  }

  onOom(listener: (containerId: string) => void): void {
    this.oomListener = listener;
  }

  watchOom(state: RuncContainer, initAttempt: Attempt): void {
    mkdirSync(initAttempt.persistDir, { recursive: true, mode: 0o700 });
    state.oomWatcher = watch(initAttempt.persistDir, () => guarded(this.logger, `runc runtime: looking for an OOM kill in ${state.id}`, () => this.oomFileAppeared(state)));
    state.oomWatcher.on('error', (err) => this.logger.warn({ err }, `runc runtime: watching ${state.id} for OOM kills stopped`));
    state.oomWatcher.unref();
  }

  /** An `oom` dropped by the conmon of any process of the container: one OOM event per container. */
  private oomFileAppeared(state: RuncContainer): void {
    if (state.oomReported) return;
    const attempts = [...state.processes.values()].flatMap((proc) => (proc.attempt ? [proc.attempt] : []));
    if (!attempts.some((attempt) => existsSync(join(attempt.persistDir, 'oom')))) return;
    state.oomReported = true;
    this.oomListener(state.id);
  }

  watchExit(state: RuncContainer, processId: string, proc: RuncProcess): void {
    proc.watcher = watch(proc.attempt!.exitDir, () => guarded(this.logger, `runc runtime: reading the exit of ${processId} of ${state.id}`, () => this.exitFileAppeared(state, processId)));
    proc.watcher.on('error', (err) => this.logger.warn({ err }, `runc runtime: watching the exit of ${processId} of ${state.id} stopped; the watchdog still looks`));
    proc.watcher.unref();
  }

  exitFileAppeared(state: RuncContainer, processId: string): void {
    const attempt = state.processes.get(processId)?.attempt;
    const exit = attempt && readExit(attempt, state.id);
    if (exit) this.deliver(state, processId, exit);
  }

  /** Reports an exit exactly once, however it was learned. */
  private deliver(state: RuncContainer, processId: string, exit: ExitInfo): void {
    const proc = state.processes.get(processId);
    if (!proc || proc.exited) return;
    proc.exited = true;
    proc.watcher?.close();
    // A conmon writes `oom` before the exit status it caused; the watcher may not have told us yet.
    this.oomFileAppeared(state);
    this.listener(state.id, processId, exit);
  }

  /**
   * A conmon that died without writing an exit status: 255 'shim-lost', and what
   * it watched is killed, since nobody could ever report its end.
   */
  checkMonitors(containers: Iterable<RuncContainer>): void {
    for (const state of containers) {
      for (const [processId, proc] of state.processes) {
        if (proc.exited || proc.conmonPid <= 0 || isSameProcess(proc.conmonPid, proc.conmonStartTime)) continue;
        const recorded = proc.attempt && readExit(proc.attempt, state.id);
        if (!recorded) this.killOrphan(state, processId, proc);
        this.deliver(state, processId, recorded ?? lostExit('shim-lost'));
      }
    }
  }

  /** What a dead conmon watched: init takes its whole container with it; an exec is killed if it is still the one recorded. */
  killOrphan(state: RuncContainer, processId: string, proc: RuncProcess): void {
    if (processId === INIT) void this.runc.killAll(state.id, state.bundle);
    else killConfirmed(proc.pid, proc.startTime, 'SIGKILL');
  }
}
