import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { commandLine } from '../../src/io/os/os-process.js';
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

runc('a restart launch cut by a crash (runc runtime)', () => {
  it('restore does not take a generation that runc created, after its `runc list`, for one started: the next supervisor starts it', async () => {
    const stateDir = tempDir();
    mkdirSync(join(stateDir, 'containers'), { recursive: true, mode: 0o700 });
    const bundle = busyboxBundle(tempDir(), 'c', { args: ['sleep', '60'] });
    // The reopening supervisor lists runc's containers first: the dead supervisor's launch has not created c yet.
    const reopened = runtimeOver(stateDir);
    await reopened.reconcile(new Set(['c']));
    // That launch goes on without its supervisor: conmon and runc create the next generation of init...
    const dead = runtimeOver(stateDir);
    await dead.create('c', { bundle });
    onCleanup(() => {
      execFileSync('runc', ['--root', join(stateDir, 'runc'), 'delete', '--force', 'c'], { stdio: 'ignore' });
    });
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
});
