import Database from 'better-sqlite3';
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../../errors.js';
import { commandLine, isSameProcess, processStartTime, readIfPresent } from './os-process.js';
import { createPrivateFile, writePrivateFile } from './private-file.js';

/**
 * One supervisor per state dir. The exclusion is SQLite's exclusive lock on
 * `lock.db`, an fcntl lock the kernel holds on the connection's fd for as long
 * as the process lives and drops when it dies (SIGKILL included): there is no
 * check-then-take window for two openers to slip through together. The `lock`
 * file beside it only names the holder (pid, start time) for the `locked` message.
 */
export class StateLock {
  private constructor(
    private readonly db: Database.Database,
    private readonly holderPath: string,
    private readonly holder: string,
  ) {}

  static acquire(stateDir: string): StateLock {
    const path = join(stateDir, 'lock.db');
    const holderPath = join(stateDir, 'lock');
    let db: Database.Database;
    try {
      createPrivateFile(path);
      db = new Database(path, { timeout: 0 });
    } catch (err) {
      throw unusableStateDir(err, stateDir);
    }
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      // In exclusive locking mode the lock taken by this transaction is kept until the connection closes.
      db.exec('BEGIN EXCLUSIVE; COMMIT');
    } catch (err) {
      db.close();
      if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw unusableStateDir(err, stateDir);
      throw new BerthError('locked', `state dir ${stateDir} is in use by another supervisor (${awaitHolder(holderPath)})`);
    }
    const holder = `${process.pid} ${processStartTime(process.pid)}\n`;
    try {
      writePrivateFile(holderPath, holder);
    } catch (err) {
      db.close();
      throw unusableStateDir(err, stateDir);
    }
    return new StateLock(db, holderPath, holder);
  }

  release(): void {
    if (readIfPresent(this.holderPath) === this.holder) {
      try {
        unlinkSync(this.holderPath);
      } catch {
        // already gone
      }
    }
    this.db.close();
  }
}

/** The holder writes its name just after taking the lock: give it a moment (bounded) to appear. */
function awaitHolder(holderPath: string): string {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let attempt = 0; ; attempt++) {
    const holder = describeHolder(holderPath);
    if (holder !== undefined || attempt === 20) return holder ?? 'its pid is not recorded yet';
    Atomics.wait(pause, 0, 0, 10);
  }
}

/** Naming what holds it (`berth events --follow`, a test runner, ...) tells the user what to stop. */
function describeHolder(holderPath: string): string | undefined {
  const [pid, startTime] = (readIfPresent(holderPath) ?? '').trim().split(' ').map(Number);
  if (pid === undefined || startTime === undefined || !isSameProcess(pid, startTime)) return undefined;
  const command = commandLine(pid)?.slice(0, 120);
  return `pid ${pid}${command ? `: ${command}` : ''}`;
}

/** A state dir berth cannot use (not a directory, read-only, full): what to fix, not a raw errno. */
export function unusableStateDir(err: unknown, stateDir: string): BerthError {
  const why = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown }).code;
  if (code === 'ENOSPC' || code === 'SQLITE_FULL') return new BerthError('disk-full', `state dir ${stateDir}: the disk is full (${why})`, { cause: err });
  return new BerthError('runtime-error', `state dir ${stateDir} cannot be used (${why}): it must be a writable directory`, { cause: err });
}
