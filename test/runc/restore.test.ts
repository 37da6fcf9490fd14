import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { briefSince, openSupervisor, storedEvents, tempDir } from '../helpers.js';
import { checkOrdering } from '../ordering.js';
import { processRunning } from '../../src/io/os/os-process.js';
import { currentAttempt } from '../../src/io/runc/monitor-records.js';
import { busyboxBundle, canRunContainers } from '../support/busybox-bundle.js';
import { runThenCrash } from '../support/crash.js';

const runc = describe.skipIf(!canRunContainers() && !process.env.CI);
const attempt = (stateDir: string, id: string, proc: string) => currentAttempt(join(stateDir, 'containers', id), proc)!;
const conmonPid = (stateDir: string, id: string, proc: string) => Number(readFileSync(attempt(stateDir, id, proc).conmonPidFile, 'utf8'));
const exitFile = (stateDir: string, id: string, proc: string) => join(attempt(stateDir, id, proc).exitDir, id);

runc('restore after the supervisor is killed (runc runtime: conmon keeps containers alive)', () => {
  it('TestRestart: ten containers survive; two killed while down report 137; an exec works after', async () => {
    const stateDir = tempDir();
    const ids = Array.from({ length: 10 }, (_, i) => `top${i}`);
    const crashed = await runThenCrash(stateDir, ids.flatMap((id) => [`create:${id}:sleep 30`, `start:${id}`]), 0, 'runc');
    for (const id of ['top2', 'top4']) process.kill(crashed.pids[`${id}/init`]!, 'SIGKILL');
    for (const id of ['top2', 'top4']) await expect.poll(() => existsSync(exitFile(stateDir, id, 'init'))).toBe(true);
    const sv = await openSupervisor({ stateDir, runtime: 'runc' });
    expect(sv.list().filter((c) => c.status === 'running')).toHaveLength(8);
    await sv.exec('top1', { execId: 'echo', args: ['sh', '-c', 'echo -n Success!'] });
    expect((await sv.wait('top1', 'echo')).status).toBe(0);
    expect(await sv.logs('top1', 'echo')).toBe('Success!');
    expect(await briefSince(sv, crashed.lastSeq)).toEqual(['exit:init=137', 'exit:init=137', 'start-process:echo', 'exit:echo=0']);
  });

  it('RestoreDeadExec: an exec killed while down gets 137', async () => {
    const stateDir = tempDir();
    const crashed = await runThenCrash(stateDir, ['create:c:sleep 30', 'start:c', 'exec:c:sleeper:sleep 30'], 0, 'runc');
    process.kill(crashed.pids['c/sleeper']!, 'SIGKILL');
    await expect.poll(() => existsSync(exitFile(stateDir, 'c', 'sleeper'))).toBe(true);
    const sv = await openSupervisor({ stateDir, runtime: 'runc' });
    expect(await briefSince(sv, crashed.lastSeq)).toEqual(['exit:sleeper=137']);
    expect(sv.get('c').status).toBe('running');
  });

  it('init dying while down: the kernel killed the execs, and their exits are published first', async () => {
    const stateDir = tempDir();
    const crashed = await runThenCrash(stateDir, ['create:c:sleep 30', 'start:c', 'exec:c:e1:sleep 30', 'exec:c:e2:sleep 30'], 0, 'runc');
    process.kill(crashed.pids['c/init']!, 'SIGKILL');
    await expect.poll(() => existsSync(exitFile(stateDir, 'c', 'init'))).toBe(true);
    const sv = await openSupervisor({ stateDir, runtime: 'runc' });
    expect((await sv.wait('c')).status).toBe(137);
    const after = await briefSince(sv, crashed.lastSeq);
    expect(after.slice(0, 2).sort()).toEqual(['exit:e1=137', 'exit:e2=137']);
    expect(after.at(-1)).toBe('exit:init=137');
    checkOrdering(await storedEvents(sv));
  });

  it('SigkillShimReuseName: conmon killed while down gives 255 shim-lost, the container is killed, the id is reusable', async () => {
    const stateDir = tempDir();
    const crashed = await runThenCrash(stateDir, ['create:c:sleep 30', 'start:c'], 0, 'runc');
    process.kill(conmonPid(stateDir, 'c', 'init'), 'SIGKILL');
    const sv = await openSupervisor({ stateDir, runtime: 'runc' });
    expect(await sv.wait('c')).toMatchObject({ status: 255, reason: 'shim-lost' });
    // Nobody could report its end, so it does not run on unsupervised.
    await expect.poll(() => processRunning(crashed.pids['c/init']!)).toBe(false);
    await sv.delete('c');
    await sv.create({ id: 'c', bundle: busyboxBundle(tempDir(), 'c', { args: ['true'] }) });
    await sv.start('c');
    expect((await sv.wait('c')).status).toBe(0);
  });

  it('a paused container is restored as paused and stays killable (moby#31699)', async () => {
    const stateDir = tempDir();
    await runThenCrash(stateDir, ['create:c:sleep 30', 'start:c', 'pause:c'], 0, 'runc');
    const sv = await openSupervisor({ stateDir, runtime: 'runc' });
    expect(sv.get('c').status).toBe('paused');
    await sv.resume('c');
    await sv.pause('c');
    await sv.signal('c', 'init', 'SIGKILL');
    expect((await sv.wait('c')).status).toBe(137);
  });

  it('conmon killed while its container is paused and no supervisor runs: 255 shim-lost, and nothing is left frozen', async () => {
    const stateDir = tempDir();
    const crashed = await runThenCrash(stateDir, ['create:c:sleep 30', 'start:c', 'pause:c'], 0, 'runc');
    process.kill(conmonPid(stateDir, 'c', 'init'), 'SIGKILL');
    const sv = await openSupervisor({ stateDir, runtime: 'runc' });
    expect(await sv.wait('c')).toMatchObject({ status: 255, reason: 'shim-lost' });
    await expect.poll(() => processRunning(crashed.pids['c/init']!)).toBe(false);
    await sv.delete('c');
    expect(sv.list()).toEqual([]);
  });

  it('conmon killed while its container is paused, with the supervisor running: other commands go on (containerd PR #1111)', async () => {
    const sv = await openSupervisor({ runtime: 'runc' });
    await sv.create({ id: 'c', bundle: busyboxBundle(tempDir(), 'c', { args: ['sleep', '30'] }) });
    const { pid } = await sv.start('c');
    await sv.pause('c');
    process.kill(conmonPid(sv.stateDir, 'c', 'init'), 'SIGKILL');
    await sv.create({ id: 'd', bundle: busyboxBundle(tempDir(), 'd', { args: ['sleep', '30'] }) });
    await sv.start('d');
    await sv.exec('d', { execId: 'e', args: ['true'] });
    expect((await sv.wait('d', 'e')).status).toBe(0);
    expect(await sv.wait('c')).toMatchObject({ status: 255, reason: 'shim-lost' });
    await expect.poll(() => processRunning(pid)).toBe(false);
  });

  it('ExecKillShimNoPanic: the init shim killed during an exec, with the supervisor running: 255 for init, after the exec', async () => {
    const sv = await openSupervisor({ runtime: 'runc' });
    await sv.create({ id: 'c', bundle: busyboxBundle(tempDir(), 'c', { args: ['sleep', '30'] }) });
    await sv.start('c');
    await sv.exec('c', { execId: 'top1', args: ['sleep', '30'] });
    process.kill(conmonPid(sv.stateDir, 'c', 'init'), 'SIGKILL');
    expect(await sv.wait('c')).toMatchObject({ status: 255, reason: 'shim-lost' });
    expect(sv.get('c').processes.find((p) => p.id === 'top1')).toMatchObject({ status: 'exited', exitStatus: 137 });
    checkOrdering(await storedEvents(sv));
  });
});
