import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Supervisor } from '../../src/index.js';
import { brief, openSupervisor, storedEvents, tempDir } from '../helpers.js';
import { checkOrdering } from '../ordering.js';
import { busyboxBundle, canRunContainers, ROOTFS_DIRS } from '../support/busybox-bundle.js';

/** Real runc containers need root, runc, conmon and busybox-static; CI installs them, so there they always run. */
const runc = describe.skipIf(!canRunContainers() && !process.env.CI);

async function container(sv: Supervisor, id: string, args: string[], memoryLimit?: number): Promise<void> {
  await sv.create({ id, bundle: busyboxBundle(tempDir('berth-bundle-'), id, { args, memoryLimit }) });
  await sv.start(id);
}

const BIND_MOUNT_POINTS = ['control', 'data'];

runc('the runc runtime, with conmon as the shim (containerd v0.2 integration suite)', () => {
  it('StartBusyboxLsSlash: ls / prints the rootfs, then start-container and exit(init, 0)', async () => {
    const sv = await openSupervisor({ runtime: 'runc' });
    await container(sv, 'ls', ['ls', '/']);
    expect((await sv.wait('ls')).status).toBe(0);
    // The run's bundles share one rootfs: runc leaves the mount points other tests' bundles bind (/control, /data) in it.
    const listed = (await sv.logs('ls')).trim().split('\n');
    expect(listed.filter((name) => !BIND_MOUNT_POINTS.includes(name))).toEqual(ROOTFS_DIRS);
    expect(brief(await storedEvents(sv))).toEqual(['create', 'start-container:init', 'exit:init=0']);
  });

  it("StartBusyboxNoSuchFile: create fails with runc's own words and leaves nothing behind", async () => {
    const stateDir = tempDir();
    const sv = await openSupervisor({ runtime: 'runc', stateDir });
    const bundle = busyboxBundle(tempDir('berth-bundle-'), 'nsf', { args: ['NoSuchFile'] });
    const err = await sv.create({ id: 'nsf', bundle }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid-spec' }); // as on the process runtime
    expect((err as Error).message).toContain('exec: "NoSuchFile": executable file not found in $PATH');
    expect(sv.list()).toEqual([]);
    expect(readdirSync(join(stateDir, 'containers'))).toEqual([]);
    expect(execFileSync('runc', ['--root', join(stateDir, 'runc'), 'list', '-q'], { encoding: 'utf8' }).trim()).toBe('');
    expect(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })).not.toContain(`-c nsf`);
    expect(await storedEvents(sv)).toEqual([]);
  });

  it("an exec of a missing program fails with runc's words, as invalid-spec, and is not registered", async () => {
    const sv = await openSupervisor({ runtime: 'runc' });
    await container(sv, 'x', ['sleep', '30']);
    for (const args of [['NoSuchFile'], ['/no/such/path']]) {
      const err = await sv.exec('x', { execId: 'e', args }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'invalid-spec', message: expect.stringContaining(`exec: "${args[0]}": `) });
    }
    expect(sv.get('x').processes.map((p) => p.id)).toEqual(['init']);
    await sv.exec('x', { execId: 'e', args: ['true'] });
    expect((await sv.wait('x', 'e')).status).toBe(0);
    expect(sv.get('x').status).toBe('running');
  });

  it('StartBusyboxSleep: a sleep that exits by itself', async () => {
    const sv = await openSupervisor({ runtime: 'runc' });
    await container(sv, 'sleep', ['sleep', '1']);
    expect(sv.get('sleep').status).toBe('running');
    expect((await sv.wait('sleep')).status).toBe(0);
  });

  it('TopKill and TopSignalSigterm: 137 and 143', async () => {
    const sv = await openSupervisor({ runtime: 'runc' });
    await container(sv, 'k', ['top', '-b']);
    await container(sv, 't', ['sh', '-c', "trap 'exit 143' TERM; while :; do sleep 0.05; done"]);
    await sv.signal('k', 'init', 'SIGKILL');
    await sv.signal('t', 'init', 'SIGTERM');
    expect(await sv.wait('k')).toMatchObject({ status: 137, signal: 'SIGKILL' });
    expect((await sv.wait('t')).status).toBe(143);
  });

  it('TrapUSR1: a trap handler receives SIGUSR1', async () => {
    const sv = await openSupervisor({ runtime: 'runc' });
    await container(sv, 'trap', ['sh', '-c', "trap 'echo -n booh!' USR1; sleep 60 & wait"]);
    await new Promise((done) => setTimeout(done, 200)); // let sh install its trap
    await sv.signal('trap', 'init', 'SIGUSR1');
    await sv.wait('trap');
    expect(await sv.logs('trap')).toBe('booh!');
  });

  it('TopPauseResume: list() and get() report paused, then running', async () => {
    const sv = await openSupervisor({ runtime: 'runc' });
    await container(sv, 'p', ['sleep', '30']);
    await sv.pause('p');
    expect(sv.list()[0]!.status).toBe('paused');
    await sv.resume('p');
    expect(sv.get('p').status).toBe('running');
    expect(brief(await storedEvents(sv))).toEqual(['create', 'start-container:init', 'pause', 'resume']);
  });

  it('TestOOM: an 8 MiB limit and a growing string give oom, then exit(init, 137)', async () => {
    const sv = await openSupervisor({ runtime: 'runc' });
    await container(sv, 'oom', ['sh', '-c', 'x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done'], 8 * 1024 * 1024);
    expect((await sv.wait('oom')).status).toBe(137);
    expect(brief(await storedEvents(sv))).toEqual(['create', 'start-container:init', 'oom', 'exit:init=137']);
    checkOrdering(await storedEvents(sv));
  });

  it('TopExecEcho: an exec with its exit code and output', async () => {
    const sv = await openSupervisor({ runtime: 'runc' });
    await container(sv, 'top1', ['sleep', '30']);
    await sv.exec('top1', { execId: 'echo', args: ['sh', '-c', 'echo -n Ay Caramba! ; exit 1'] });
    expect((await sv.wait('top1', 'echo')).status).toBe(1);
    expect(await sv.logs('top1', 'echo')).toBe('Ay Caramba!');
    expect(brief(await storedEvents(sv))).toEqual(['create', 'start-container:init', 'start-process:echo', 'exit:echo=1']);
  });

  it('TopExecTop: killing one exec leaves the container running', async () => {
    const sv = await openSupervisor({ runtime: 'runc' });
    await container(sv, 'top1', ['sleep', '30']);
    await sv.exec('top1', { execId: 'top', args: ['top', '-b'] });
    await sv.signal('top1', 'top', 'SIGKILL');
    expect((await sv.wait('top1', 'top')).status).toBe(137);
    expect(sv.get('top1').status).toBe('running');
  });

  it('TopExecTopKillInit: init killed while execs run; the kernel kills the execs and their exits come first', async () => {
    const sv = await openSupervisor({ runtime: 'runc' });
    await container(sv, 'c', ['sh', '-c', "trap 'exit 143' TERM; while :; do sleep 0.05; done"]);
    await sv.exec('c', { execId: 'top1', args: ['top', '-b'] });
    await sv.exec('c', { execId: 'top2', args: ['sleep', '30'] });
    await sv.signal('c', 'init', 'SIGTERM');
    expect((await sv.wait('c')).status).toBe(143);
    const order = brief(await storedEvents(sv));
    expect(order.slice(-3, -1).sort()).toEqual(['exit:top1=137', 'exit:top2=137']);
    expect(order.at(-1)).toBe('exit:init=143');
  });

  it('ExecCreateDetachedChild: a detached child outlives its exec inside the container', async () => {
    const sv = await openSupervisor({ runtime: 'runc' });
    await container(sv, 'c', ['sh', '-c', 'sleep 1000 & wait']);
    await sv.exec('c', { execId: 'detach', args: ['sh', '-c', 'sleep 999 2>&- 1>&- 0<&- &'] });
    expect((await sv.wait('c', 'detach')).status).toBe(0);
    await sv.exec('c', { execId: 'ps', args: ['ps', '-o', 'stat,args'] });
    await sv.wait('c', 'ps');
    expect(await sv.logs('c', 'ps')).toContain('sleep 999');
  });

  it('TopExecShDefunct: no defunct process is left inside or outside the container', async () => {
    const sv = await openSupervisor({ runtime: 'runc' });
    await container(sv, 'c', ['sh', '-c', 'sleep 1000 & wait']);
    await sv.exec('c', { execId: 'sh', args: ['sh', '-c', 'sleep 1000 & sleep 0.1 & exit'] });
    await sv.wait('c', 'sh');
    await new Promise((done) => setTimeout(done, 300));
    await sv.exec('c', { execId: 'ps', args: ['ps', '-o', 'stat,args'] });
    await sv.wait('c', 'ps');
    const inside = (await sv.logs('c', 'ps')).split('\n').filter((line) => line.trim().startsWith('Z'));
    expect(inside).toEqual([]);
    const pid = sv.get('c').pid!;
    const outside = execFileSync('ps', ['-eo', 'stat,ppid,pid'], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.trim().startsWith('Z') && line.includes(` ${pid} `));
    expect(outside).toEqual([]);
  });

  it('update and stats: a new memory limit shows in the container statistics', async () => {
    const sv = await openSupervisor({ runtime: 'runc' });
    await container(sv, 'c', ['sleep', '30']);
    await sv.update('c', { memory: { limit: 64 * 1024 * 1024, swap: 64 * 1024 * 1024 } });
    const stats = await sv.stats('c');
    expect(stats.memory.limit).toBe(64 * 1024 * 1024);
    expect(stats.pids.current).toBeGreaterThanOrEqual(1);
    expect(stats.cpu.totalNs).toBeGreaterThan(0);
  });

  it('delete removes runc state, conmon and the state dir', async () => {
    const stateDir = tempDir();
    const sv = await openSupervisor({ runtime: 'runc', stateDir });
    await container(sv, 'c', ['sleep', '30']);
    await sv.delete('c', { force: true });
    expect(existsSync(join(stateDir, 'containers/c'))).toBe(false);
    expect(execFileSync('runc', ['--root', join(stateDir, 'runc'), 'list', '-q'], { encoding: 'utf8' }).trim()).toBe('');
  });

  it('refuses a bundle without config.json, and a process spec', async () => {
    const sv = await openSupervisor({ runtime: 'runc' });
    await expect(sv.create({ id: 'x', bundle: tempDir() })).rejects.toMatchObject({ code: 'invalid-spec' });
    await expect(sv.create({ id: 'x', process: { args: ['true'] } })).rejects.toMatchObject({ code: 'invalid-spec' });
    expect(sv.list()).toEqual([]);
  });
});
