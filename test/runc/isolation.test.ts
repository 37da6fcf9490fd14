import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultCgroupParent, removeCgroupParent } from '../../src/io/runc/runc-bundle.js';
import { Supervisor } from '../../src/index.js';
import { openSupervisor, stateOf, tempDir } from '../helpers.js';
import { busyboxBundle, canRunContainers } from '../support/busybox-bundle.js';

const runc = describe.skipIf(!canRunContainers() && !process.env.CI);

/** The memory cgroup a process is in, from /proc/<pid>/cgroup (v1 `memory` line, or the v2 line). */
function memoryCgroup(pid: number): string {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  const line = lines.find((l) => l.split(':')[1]?.split(',').includes('memory')) ?? lines.find((l) => l.startsWith('0::'))!;
  return line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
}

const MEMORY_HIERARCHY = existsSync('/sys/fs/cgroup/cgroup.controllers') ? '/sys/fs/cgroup' : '/sys/fs/cgroup/memory';

runc('containers of one id under two supervisors', () => {
  it('each supervisor has a cgroup of its own: pausing, killing and deleting one leaves the other running', async () => {
    const [dirA, dirB] = [tempDir(), tempDir()];
    const a = await openSupervisor({ runtime: 'runc', stateDir: dirA });
    const b = await openSupervisor({ runtime: 'runc', stateDir: dirB });
    const bundle = busyboxBundle(tempDir('berth-bundle-'), 'twin', { args: ['sleep', '60'] });
    await a.create({ id: 'twin', bundle });
    await b.create({ id: 'twin', bundle });
    const { pid: pidA } = await a.start('twin');
    const { pid: pidB } = await b.start('twin');
    expect(memoryCgroup(pidA)).toBe(`${defaultCgroupParent(dirA)}/twin`);
    expect(memoryCgroup(pidB)).toBe(`${defaultCgroupParent(dirB)}/twin`);

    await a.pause('twin');
    expect(stateOf(pidB)).not.toBe('D'); // frozen tasks sleep in D on cgroup v1
    const echo = await b.exec('twin', { execId: 'e', args: ['echo', 'awake'] });
    expect(echo.pid).toBeGreaterThan(0);
    expect((await b.wait('twin', 'e')).status).toBe(0);
    await a.resume('twin');

    await a.signal('twin', 'init', 'SIGKILL');
    expect((await a.wait('twin')).status).toBe(137);
    await a.delete('twin');
    await a.close();
    expect(existsSync(join(MEMORY_HIERARCHY, defaultCgroupParent(dirA)))).toBe(false);

    expect(b.get('twin').status).toBe('running');
    expect(stateOf(pidB)).not.toBe('Z');
    await b.delete('twin', { force: true });
    await b.close();
    expect(existsSync(join(MEMORY_HIERARCHY, defaultCgroupParent(dirB)))).toBe(false);
  });

  it('a bundle whose rootfs and bind sources are relative to it runs, and an explicit cgroupsPath is kept', async () => {
    const stateDir = tempDir();
    const sv = await openSupervisor({ runtime: 'runc', stateDir });
    const args = ['sh', '-c', 'while [ ! -e /data/go ]; do sleep 0.01; done; cat /data/note'];
    const bundle = busyboxBundle(tempDir('berth-bundle-'), 'rel', { args });
    const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    mkdirSync(join(bundle, 'data'));
    writeFileSync(join(bundle, 'data/note'), 'relative paths resolve against the bundle\n');
    config.root.path = relative(bundle, config.root.path);
    config.mounts.push({ destination: '/data', type: 'bind', source: 'data', options: ['rbind', 'rw'] });
    const explicit = `/berth-test-explicit-${process.pid}`;
    config.linux.cgroupsPath = `${explicit}/rel`;
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));

    await sv.create({ id: 'rel', bundle });
    const { pid } = await sv.start('rel');
    expect(memoryCgroup(pid)).toBe(`${explicit}/rel`);
    writeFileSync(join(bundle, 'data/go'), '');
    expect((await sv.wait('rel')).status).toBe(0);
    expect(await sv.logs('rel')).toBe('relative paths resolve against the bundle\n');
    await sv.delete('rel');
    removeCgroupParent(explicit);
  });

  it('refuses a cgroupParent that is relative or climbs out, and leaves the state dir unlocked', async () => {
    const stateDir = tempDir();
    for (const cgroupParent of ['relative', '/berth/../escape']) {
      await expect(Supervisor.open({ stateDir, runtime: 'runc', cgroupParent })).rejects.toMatchObject({ code: 'invalid-spec' });
    }
    const sv = await openSupervisor({ runtime: 'runc', stateDir, cgroupParent: `/berth-test-parent-${process.pid}` });
    await sv.create({ id: 'p', bundle: busyboxBundle(tempDir('berth-bundle-'), 'p', { args: ['sleep', '30'] }) });
    const { pid } = await sv.start('p');
    expect(memoryCgroup(pid)).toBe(`/berth-test-parent-${process.pid}/p`);
    await sv.delete('p', { force: true });
    await sv.close();
    expect(existsSync(join(MEMORY_HIERARCHY, `/berth-test-parent-${process.pid}`))).toBe(false);
  });
});
