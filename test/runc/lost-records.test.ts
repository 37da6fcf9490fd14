import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processRunning } from '../../src/io/os/os-process.js';
import { currentAttempt } from '../../src/io/runc/monitor-records.js';
import { openSupervisor, tempDir } from '../helpers.js';
import { canRunContainers } from '../support/busybox-bundle.js';
import { runThenCrash } from '../support/crash.js';

const runc = describe.skipIf(!canRunContainers() && !process.env.CI);

/** Leaves a process's launch records unreadable: berth's record and runc's pid file. */
function garble(stateDir: string, id: string, proc: string): void {
  const attempt = currentAttempt(join(stateDir, 'containers', id), proc)!;
  for (const file of [attempt.recordFile, attempt.pidFile]) writeFileSync(file, 'garbage\n');
}

runc('a process whose launch records are unreadable at restore (runc runtime)', () => {
  it('gives 255 shim-lost and is killed: init with its container, an exec alone', async () => {
    const stateDir = tempDir();
    const crashed = await runThenCrash(
      stateDir,
      ['create:a:sleep 60', 'start:a', 'create:b:sleep 60', 'start:b', 'exec:b:e:sleep 60'],
      0,
      'runc',
    );
    garble(stateDir, 'a', 'init');
    garble(stateDir, 'b', 'e');
    const sv = await openSupervisor({ stateDir, runtime: 'runc' });
    expect(await sv.wait('a')).toMatchObject({ status: 255, reason: 'shim-lost' });
    expect(await sv.wait('b', 'e')).toMatchObject({ status: 255, reason: 'shim-lost' });
    // Nothing berth can no longer report on runs on: not a's init, not b's exec.
    await expect.poll(() => processRunning(crashed.pids['a/init']!), { timeout: 10_000 }).toBe(false);
    await expect.poll(() => processRunning(crashed.pids['b/e']!), { timeout: 10_000 }).toBe(false);
    // b's init, whose records are sound, is left alone.
    expect(processRunning(crashed.pids['b/init']!)).toBe(true);
    expect(sv.get('b').status).toBe('running');
  });
});
