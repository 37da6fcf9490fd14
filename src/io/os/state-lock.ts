import { openSync, readFileSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../../errors.js';
import { commandLine, isSameProcess, processStartTime } from './os-process.js';

/**
 * One supervisor per state dir. The lock file names its holder (pid and start
 * time); a lock whose holder is gone — a supervisor killed with SIGKILL — is
 * taken over.
 */
export class StateLock {
  private constructor(
    private readonly path: string,
    private readonly content: string,
  ) {}

  static acquire(stateDir: string): StateLock {
    const path = join(stateDir, 'lock');
    const content = `${process.pid} ${processStartTime(process.pid)}\n`;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o600);
        writeSync(fd, content);
        closeSync(fd);
        return new StateLock(path, content);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      let holder: string;
      try {
        holder = readFileSync(path, 'utf8');
      } catch {
        continue; // released meanwhile: try again
      }
      const [pid, startTime] = holder.trim().split(' ').map(Number);
      if (pid !== undefined && startTime !== undefined && isSameProcess(pid, startTime)) {
        // Naming what holds it (`berth events --follow`, a test runner, ...) tells the user what to stop.
        const command = commandLine(pid)?.slice(0, 120);
        throw new BerthError('locked', `state dir ${stateDir} is in use by another supervisor (pid ${pid}${command ? `: ${command}` : ''})`);
      }
      try {
        unlinkSync(path); // stale: its holder is gone
      } catch {
        // another opener took it over first; the next attempt tells
      }
    }
    throw new BerthError('locked', `could not lock state dir ${stateDir}`);
  }

  release(): void {
    try {
      if (readFileSync(this.path, 'utf8') === this.content) unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}
