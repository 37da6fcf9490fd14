import { closeSync, constants, openSync, statSync, watch, writeSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { LogLimits } from '../../types.js';
import { INIT } from '../../validate.js';
import { guarded } from '../os/guarded.js';
import { awaitingReopen, pruneRotated, rotateLog } from '../os/log-generations.js';
import type { Attempt } from './monitor-records.js';
import type { RuncContainer } from './runc-container.js';

/** How often sizes are looked at besides on every change inotify reports: the bound on a missed event. */
const CHECK_MS = 250;
/** A log found renamed but not reopened (its supervisor died in between) is reopened once it has surely not been. */
const REOPEN_GRACE_MS = 1_000;
/**
 * How long followers may keep rotated files from being removed. conmon cannot be
 * held back as berth-shim's monitors hold back their process, so the log grows
 * meanwhile: the wait counts from the first removal held up, even while the
 * follower moves on, and a follower still behind after it loses (output-lost).
 */
const HOLD_PATIENCE_MS = 5_000;

/**
 * conmon's control fifo (type 2 reopens its log). conmon makes it in its bundle
 * dir: init's is the container's bundle, and each exec's conmon gets its
 * attempt dir as its bundle (runc exec does not read one), so each has its own.
 */
export function controlFifo(state: RuncContainer, processId: string, attempt: Attempt): string {
  return join(processId === INIT ? state.bundle : attempt.dir, 'ctl');
}

interface ProcessRotation {
  /** A reopen was sent, and conmon has not made the fresh file yet: no second one may be sent (it would replace that file). */
  reopenSent: boolean;
  missingSince?: number;
  holdBlockedSince?: number;
  /** Its process exited and the files followers held back are gone: nothing more to do. */
  settled?: boolean;
}

/**
 * Bounded logs on runc, where conmon writes them (its --log-size-max truncates,
 * losing output): the supervisor looks at each live process's log on every
 * change and every CHECK_MS, and once it holds maxBytes renames it to its start
 * (log-generations.ts) and tells conmon, through its control fifo, to reopen
 * it: conmon then writes a fresh file, having lost nothing. What the process
 * writes between the look and the reopen overshoots maxBytes. A supervisor that
 * is down does not rotate; the next one to open the state dir goes on.
 */
export class ConmonLogRotation {
  private readonly watcher: FSWatcher;
  private readonly timer: NodeJS.Timeout;
  private readonly processes = new Map<string, ProcessRotation>();
  private scheduled = false;

  constructor(
    private readonly state: RuncContainer,
    private readonly limits: LogLimits,
    private readonly logger: Logger,
  ) {
    this.watcher = watch(state.dir, (_, file) => {
      if (file?.endsWith('.log') && !this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.check());
      }
    });
    this.watcher.on('error', (err) => this.logger.warn({ err }, `runc runtime: watching the logs of ${state.id} stopped; they are still looked at every ${CHECK_MS} ms`));
    this.watcher.unref();
    this.timer = setInterval(() => this.check(), CHECK_MS);
    this.timer.unref();
  }

  close(): void {
    this.watcher.close();
    clearInterval(this.timer);
  }

  private check(): void {
    this.scheduled = false;
    for (const [processId, proc] of this.state.processes) {
      const { attempt, exited } = proc;
      if (!attempt) continue;
      let rotation = this.processes.get(processId);
      if (!rotation) this.processes.set(processId, (rotation = { reopenSent: false }));
      if (rotation.settled) continue;
      const path = join(this.state.dir, `${processId}.log`);
      guarded(this.logger, `runc runtime: rotating the log of ${processId} of ${this.state.id}`, () => {
        // Once the process has exited, only what followers held back is still to be removed.
        if (!exited) this.rotateIfFull(path, rotation, controlFifo(this.state, processId, attempt));
        const pruned = pruneRotated(path, this.limits.keep, () => this.stillPatient(rotation));
        if (pruned) rotation.holdBlockedSince = undefined;
        rotation.settled = exited && pruned;
      });
    }
  }

  private rotateIfFull(path: string, rotation: ProcessRotation, fifo: string): void {
    const size = statSync(path, { throwIfNoEntry: false })?.size;
    if (size === undefined) {
      if (rotation.reopenSent || !awaitingReopen(path)) return;
      rotation.missingSince ??= Date.now();
      if (Date.now() - rotation.missingSince >= REOPEN_GRACE_MS) this.reopen(rotation, fifo);
      return;
    }
    rotation.reopenSent = false;
    rotation.missingSince = undefined;
    if (size >= this.limits.maxBytes) rotateLog(path, () => this.reopen(rotation, fifo));
  }

  /** Whether followers may still hold rotated files back (HOLD_PATIENCE_MS). */
  private stillPatient(rotation: ProcessRotation): boolean {
    rotation.holdBlockedSince ??= Date.now();
    return Date.now() - rotation.holdBlockedSince <= HOLD_PATIENCE_MS;
  }

  /** `2 0 0`: conmon reopens its log. A conmon that is gone (ENXIO: no reader) has nothing more to write. */
  private reopen(rotation: ProcessRotation, fifo: string): void {
    let fd: number;
    try {
      fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENXIO' || (err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    try {
      writeSync(fd, '2 0 0\n');
      rotation.reopenSent = true;
    } finally {
      closeSync(fd);
    }
  }
}

