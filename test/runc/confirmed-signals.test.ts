import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processRunning } from '../../src/io/os/os-process.js';
import { currentAttempt } from '../../src/io/runc/monitor-records.js';
import { openSupervisor, tempDir } from '../helpers.js';
import { canRunContainers } from '../support/busybox-bundle.js';
import { runThenCrash } from '../support/crash.js';

const runc = describe.skipIf(!canRunContainers() && !process.env.CI);

/** Points every record of an exec's pid at `pid`, keeping the start time recorded for the exec (older layouts too). */
function pointPidAt(dir: string, execId: string, pid: number): void {
  const attempt = currentAttempt(dir, execId);
  const files = [attempt?.pidFile, join(dir, `${execId}.pid`)].filter((f): f is string => !!f && existsSync(f));
  for (const file of files) writeFileSync(file, `${pid}\n`);
  for (const file of [attempt?.recordFile, join(dir, `${execId}.shim`)]) {
    if (!file || !existsSync(file)) continue;
    const [, ...rest] = readFileSync(file, 'utf8').trim().split(' ');
    writeFileSync(file, `${[pid, ...rest].join(' ')}\n`);
  }
}

runc('signals reach only the process they were meant for (runc runtime)', () => {
  it('an exec whose recorded pid now names another process is not signalled: invalid-state, and the other process lives', async () => {
    const stateDir = tempDir();
    await runThenCrash(stateDir, ['create:c:sleep 30', 'start:c', 'exec:c:e:sleep 30'], 0, 'runc');
    // A bystander stands in for a process that reused the exec's pid.
    const bystander = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      pointPidAt(join(stateDir, 'containers', 'c'), 'e', bystander.pid!);
      const sv = await openSupervisor({ stateDir, runtime: 'runc' });
      const err = await sv.signal('c', 'e', 'SIGKILL').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'invalid-state' });
      expect(processRunning(bystander.pid!)).toBe(true);
    } finally {
      bystander.kill('SIGKILL');
    }
  });
});
