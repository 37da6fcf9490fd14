import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Supervisor } from '../../src/index.js';
import { groupAlive, openSupervisor, tempDir } from '../helpers.js';
import { busyboxBundle, canRunContainers } from '../support/busybox-bundle.js';

const runc = describe.skipIf(!canRunContainers() && !process.env.CI);

function script(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('the runc runtime: set-up errors', () => {
  it('says how to install a missing runc or conmon', async () => {
    const err = await Supervisor.open({ stateDir: tempDir(), runtime: 'runc', runcPath: '/nonexistent/runc' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'runtime-error', message: expect.stringContaining('apt-get install runc') });
    const err2 = await Supervisor.open({ stateDir: tempDir(), runtime: 'runc', conmonPath: 'no-such-conmon' }).catch((e: unknown) => e);
    expect(err2).toMatchObject({ message: expect.stringContaining('apt-get install conmon') });
  });
});

runc('the runc runtime: shims and checkpoints', () => {
  it('kills a hung shim after startTimeoutMs and fails clearly, leaving nothing behind', async () => {
    const stateDir = tempDir();
    const pidFile = join(tempDir(), 'hung.pid');
    const hung = script(tempDir(), 'conmon', `echo $$ > ${pidFile}; exec sleep 600`);
    const sv = await openSupervisor({ runtime: 'runc', stateDir, conmonPath: hung, startTimeoutMs: 300 });
    const bundle = busyboxBundle(tempDir('berth-bundle-'), 'h', { args: ['true'] });
    const err = await sv.create({ id: 'h', bundle }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/did not report within 300 ms and was killed/);
    await expect.poll(() => groupAlive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
    expect(readdirSync(join(stateDir, 'containers'))).toEqual([]);
    expect(sv.list()).toEqual([]);
  });

  it('checkpoints through runc checkpoint (a stand-in runtime records the call: criu cannot run here)', async () => {
    const calls = join(tempDir(), 'calls');
    // Every other command goes to the real runc.
    const fake = script(tempDir(), 'runc', `case " $* " in *" checkpoint "*) echo "$*" >> ${calls}; exit 0;; esac\nexec runc "$@"`);
    const sv = await openSupervisor({ runtime: 'runc', runcPath: fake });
    await sv.create({ id: 'cp', bundle: busyboxBundle(tempDir('berth-bundle-'), 'cp', { args: ['sleep', '30'] }) });
    await sv.start('cp');
    const { imagePath } = await sv.checkpoint('cp', { name: 'first', leaveRunning: true, tcpEstablished: true });
    expect(imagePath).toBe(join(sv.stateDir, 'checkpoints/cp/first'));
    const call = readFileSync(calls, 'utf8').trim();
    expect(call).toContain(`checkpoint --image-path ${imagePath} --work-path ${imagePath}/criu.work --leave-running --tcp-established cp`);
    expect(call.startsWith(`--root ${join(sv.stateDir, 'runc')}`)).toBe(true);
    expect(existsSync(imagePath)).toBe(true);
    expect(sv.get('cp').status).toBe('running');
  });

  it('names criu when a real checkpoint fails, and the container runs on', async () => {
    const sv = await openSupervisor({ runtime: 'runc' });
    await sv.create({ id: 'cp', bundle: busyboxBundle(tempDir('berth-bundle-'), 'cp', { args: ['sleep', '30'] }) });
    await sv.start('cp');
    const err = await sv.checkpoint('cp', { name: 'x', leaveRunning: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'runtime-error', message: expect.stringMatching(/criu/) });
    expect(sv.get('cp').status).toBe('running');
  });
});

runc('runc calls that race with init’s death (runc runtime)', () => {
  it('a pause or resume that fails because init died during it is invalid-state, like one made after', async () => {
    const stateDir = tempDir();
    const dir = tempDir();
    const root = join(stateDir, 'runc');
    // A stand-in for runc's failure half-way through a pause or resume: init is killed, then the call fails
    // (every other call, and a pause or resume not armed, goes to the real runc).
    const runcPath = script(
      dir,
      'runc',
      `verb=; for a in "$@"; do case $a in pause|resume) verb=$a;; esac; id=$a; done
[ -n "$verb" ] && [ -e ${dir}/die-$verb ] || exec runc "$@"
runc --root ${root} kill "$id" KILL
while runc --root ${root} state "$id" | grep -q '"status": "\\(running\\|paused\\)"'; do sleep 0.05; done
echo 'time="2024-01-01T00:00:00Z" level=error msg="unable to freeze: no such process"' >&2
exit 1`,
    );
    const sv = await openSupervisor({ runtime: 'runc', stateDir, runcPath });
    for (const [id, verb] of [['p', 'pause'], ['r', 'resume']] as const) {
      await sv.create({ id, bundle: busyboxBundle(tempDir(), id, { args: ['sleep', '60'] }) });
      await sv.start(id);
      if (verb === 'resume') await sv.pause(id);
      writeFileSync(join(dir, `die-${verb}`), '');
      const err = await sv[verb](id).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'invalid-state', message: expect.stringContaining('unable to freeze') });
      expect((await sv.wait(id)).status).toBe(137);
      rmSync(join(dir, `die-${verb}`));
    }
  });
});
