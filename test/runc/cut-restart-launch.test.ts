import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { commandLine, isSameProcess, processStartTime } from '../../src/io/os/os-process.js';
import { findBinary } from '../../src/io/os/find-binary.js';
import { currentAttempt, readPid } from '../../src/io/runc/monitor-records.js';
import { defaultCgroupParent } from '../../src/io/runc/runc-bundle.js';
import { RuncRuntime } from '../../src/io/runc/runc-runtime.js';
import { restoreView } from '../../src/io/runtime.js';
import type { StoredContainer } from '../../src/io/journal/projection.js';
import { onCleanup, tempDir } from '../helpers.js';
import { busyboxBundle, canRunContainers } from '../support/busybox-bundle.js';

const runc = describe.skipIf(!canRunContainers() && !process.env.CI);

/** A runc runtime over a state dir, as a supervisor opening it makes one; closed after the test. */
function runtimeOver(stateDir: string): RuncRuntime {
  const runtime = new RuncRuntime(join(stateDir, 'containers'), join(stateDir, 'checkpoints'), 10_000, {
    runc: findBinary('runc', 'runc'), conmon: findBinary('conmon', 'conmon'), runtimeArgs: ['--root', join(stateDir, 'runc')],
    cgroupParent: defaultCgroupParent(stateDir),
  }, pino({ level: 'silent' }));
  onCleanup(() => runtime.close());
  return runtime;
}

const runcStatus = (stateDir: string, id: string) =>
  (JSON.parse(execFileSync('runc', ['--root', join(stateDir, 'runc'), 'state', id], { encoding: 'utf8' })) as { status: string }).status;

/**
 * A reopening supervisor's runtime that has listed runc's containers, and then
 * the launch of c's next generation of init by a supervisor that died (a second
 * runtime over the same state dir), going on without it: conmon and runc create c.
 */
async function launchAfterReopen() {
  const stateDir = tempDir();
  mkdirSync(join(stateDir, 'containers'), { recursive: true, mode: 0o700 });
  const bundle = busyboxBundle(tempDir(), 'c', { args: ['sleep', '60'] });
  const reopened = runtimeOver(stateDir);
  await reopened.reconcile(new Set(['c']));
  await runtimeOver(stateDir).create('c', { bundle });
  onCleanup(() => {
    execFileSync('runc', ['--root', join(stateDir, 'runc'), 'delete', '--force', 'c'], { stdio: 'ignore' });
  });
  return { stateDir, bundle, reopened };
}

runc('a restart launch cut by a crash (runc runtime)', () => {
  it('restore does not take a generation that runc created, after its `runc list`, for one started: the next supervisor starts it', async () => {
    // The reopening supervisor lists runc's containers before the dead supervisor's launch, going on without it, creates c.
    const { stateDir, bundle, reopened } = await launchAfterReopen();
    // ...but the supervisor was killed before it wrote its record of the launch, so it never ran `runc start`.
    const attempt = currentAttempt(join(stateDir, 'containers', 'c'), 'init')!;
    rmSync(attempt.recordFile);
    expect(runcStatus(stateDir, 'c')).toBe('created');

    // The journal: the restart is journaled, the new generation's start is not.
    const stored: StoredContainer = {
      id: 'c', status: 'restarting', spec: { bundle }, labels: {}, createdAt: new Date(),
      processes: [{ id: 'init', status: 'exited', exit: { status: 2, exitedAt: new Date() } }],
    };
    const restored = reopened.restore(restoreView(stored));
    expect(restored).toEqual({ id: 'c', startedWhileDown: [], exits: [] });

    // The restart that follows starts that generation, which runs its program.
    const { pid } = await reopened.restart('c');
    expect(pid).toBe(readPid(attempt.pidFile));
    expect(runcStatus(stateDir, 'c')).toBe('running');
    expect(commandLine(pid)).toBe('sleep 60');
    await reopened.delete('c');
  });

  it('a restart clears a launch cut before conmon reported: its conmon and runc container are gone, the new generation runs', async () => {
    // The dead supervisor's launch: its conmon runs and runc holds c as created...
    const { stateDir, bundle, reopened } = await launchAfterReopen();
    const attempt = currentAttempt(join(stateDir, 'containers', 'c'), 'init')!;
    const leftover = [readPid(attempt.conmonPidFile)!, readPid(attempt.pidFile)!].map((pid) => ({ pid, startTime: processStartTime(pid)! }));
    // ...but as the reopened supervisor finds it, neither berth's record nor conmon's pid files are written yet.
    for (const file of [attempt.recordFile, attempt.conmonPidFile, attempt.pidFile]) rmSync(file);

    const stored: StoredContainer = {
      id: 'c', status: 'restarting', spec: { bundle }, labels: {}, createdAt: new Date(),
      processes: [{ id: 'init', status: 'exited', exit: { status: 2, exitedAt: new Date() } }],
    };
    expect(reopened.restore(restoreView(stored))).toEqual({ id: 'c', startedWhileDown: [], exits: [] });

    const { pid } = await reopened.restart('c');
    expect(runcStatus(stateDir, 'c')).toBe('running');
    // Started through the exec fifo: the program is exec'd a moment after.
    await vi.waitFor(() => expect(commandLine(pid)).toBe('sleep 60'));
    // Nothing of the cut launch runs on, and its attempt is no longer the one a restore would find.
    for (const proc of leftover) expect(isSameProcess(proc.pid, proc.startTime)).toBe(false);
    expect(existsSync(attempt.dir)).toBe(false);
    expect(currentAttempt(join(stateDir, 'containers', 'c'), 'init')!.dir).not.toBe(attempt.dir);
    await reopened.delete('c');
  });
});
