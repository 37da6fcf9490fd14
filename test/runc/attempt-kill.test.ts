import { pino } from 'pino';
import { spawn } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandLine, processRunning } from '../../src/io/os/os-process.js';
import { currentAttempt, readPid } from '../../src/io/runc/monitor-records.js';
import { RuncRuntime } from '../../src/io/runc/runc-runtime.js';
import { openSupervisor, tempDir } from '../helpers.js';
import { busyboxBundle, canRunContainers } from '../support/busybox-bundle.js';

const runc = describe.skipIf(!canRunContainers() && !process.env.CI);

function script(name: string, body: string): string {
  const path = join(tempDir(), name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** The pids of the processes whose command line is exactly `cmd`. */
function running(cmd: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => commandLine(pid) === cmd && processRunning(pid));
}

runc('what a failed or doubtful exec launch leaves (runc runtime)', () => {
  it('a timed-out exec leaves nothing of it running: not its conmon, and not the process conmon had exec’d', async () => {
    // Like a conmon whose sync message never arrives: it runs the exec, but the supervisor never hears of it.
    // (a sleep keeps the sync pipe open, and dies with the launch when it times out).
    const conmon = script('conmon', 'case " $* " in *" --exec "*) ;; *) exec conmon "$@";; esac\nsleep 600 &\nexec 3>/dev/null\nexec conmon "$@"');
    const sv = await openSupervisor({ runtime: 'runc', conmonPath: conmon, startTimeoutMs: 3_000 });
    await sv.create({ id: 'c', bundle: busyboxBundle(tempDir(), 'c', { args: ['sleep', '60'] }) });
    await sv.start('c');
    const marker = `sleep ${600 + Math.floor(Math.random() * 10_000)}`;
    const err = await sv.exec('c', { execId: 'e', args: marker.split(' ') }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/did not report/);
    // The exec'd process had started (it is what conmon exec'd before its message went astray): now nothing runs it.
    await expect.poll(() => running(marker), { timeout: 10_000 }).toEqual([]);
  });

  it('never signals a process that is not the exec’s conmon’s child, though runc’s pid file names it', async () => {
    const decoy = spawn('sleep', ['600'], { stdio: 'ignore' });
    try {
      // A pid file that names another process: what a pid reused after the exec'd process ended looks like.
      const runcPath = script(
        'runc',
        `case " $* " in *" exec "*) ;; *) exec runc "$@";; esac
n=$#; prev=; pidfile=
for a in "$@"; do
  if [ "$prev" = --pid-file ]; then pidfile=$a; a=$a.real; fi
  set -- "$@" "$a"; prev=$a
done
shift $n
runc "$@" || exit
echo ${decoy.pid} > "$pidfile"`,
      );
      const sv = await openSupervisor({ runtime: 'runc', runcPath });
      await sv.create({ id: 'c', bundle: busyboxBundle(tempDir(), 'c', { args: ['sleep', '60'] }) });
      await sv.start('c');
      await sv.exec('c', { execId: 'e', args: ['sleep', '60'] });
      const err = await sv.signal('c', 'e', 'SIGKILL').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'invalid-state' });
      expect(processRunning(decoy.pid!)).toBe(true);
    } finally {
      decoy.kill('SIGKILL');
    }
  });

  it('restore leaves nothing running of an exec launch cut short whose records cannot be checked', async () => {
    const stateDir = tempDir();
    const marker = `sleep ${600 + Math.floor(Math.random() * 10_000)}`;
    const holder = join(tempDir(), 'holder.pid');
    // The marked exec's launch never reports (a sleep holds its sync pipe open), though the process runs:
    // as a supervisor killed in the middle of that exec leaves it.
    const conmon = script(
      'conmon',
      `spec=; prev=
for a in "$@"; do [ "$prev" = --exec-process-spec ] && spec=$a; prev=$a; done
[ -n "$spec" ] && grep -q '"${marker.split(' ')[1]}"' "$spec" && { sleep 600 & echo $! > ${holder}; exec 3>/dev/null; }
exec conmon "$@"`,
    );
    const sv = await openSupervisor({ runtime: 'runc', stateDir, conmonPath: conmon, startTimeoutMs: 600_000 });
    const bundle = busyboxBundle(tempDir(), 'c', { args: ['sleep', '60'] });
    await sv.create({ id: 'c', bundle });
    await sv.start('c');
    void sv.exec('c', { execId: 'e', args: marker.split(' ') }).catch(() => undefined);
    const attempt = currentAttempt(join(stateDir, 'containers', 'c'), 'e')!;
    await expect.poll(() => running(marker).length === 1 && readPid(attempt.pidFile) === running(marker)[0], { timeout: 30_000 }).toBe(true);
    // Its pid file unreadable: nothing says the process conmon runs is the exec's, so the launch cannot be adopted.
    writeFileSync(attempt.pidFile, 'garbage\n');
    // What a restarted supervisor's runtime is given: c running, e never journaled.
    const runtime = new RuncRuntime(join(stateDir, 'containers'), join(stateDir, 'checkpoints'), 10_000, {
      runc: 'runc', conmon: 'conmon', runtimeArgs: ['--root', join(stateDir, 'runc')], cgroupParent: undefined,
    }, pino({ level: 'silent' }));
    try {
      const stored = { id: 'c', status: 'running', processes: [{ id: 'init', status: 'running' }], spec: { bundle }, labels: {}, createdAt: new Date() } as const;
      const restored = runtime.restore({ ...stored, processes: [...stored.processes] });
      expect(restored).toMatchObject({ startedWhileDown: [], exits: [] });
      await expect.poll(() => running(marker), { timeout: 10_000 }).toEqual([]);
    } finally {
      await runtime.close();
      process.kill(Number(readFileSync(holder, 'utf8')), 'SIGKILL'); // the first supervisor's launch then fails, and ends
    }
  });
});
