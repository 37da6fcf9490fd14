import { chownSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { Supervisor } from '../../src/index.js';
import { parentPid, processRunning } from '../../src/io/os/os-process.js';
import { brief, openSupervisor, storedEvents, tempDir } from '../helpers.js';
import { checkOrdering } from '../ordering.js';
import { CGROUPS, cgroupDir, cgroupDirs, cgroupFile, paused } from '../support/cgroups.js';

const MiB = 1024 * 1024;
const V1 = existsSync('/sys/fs/cgroup/memory/cgroup.procs');
const memoryLimitFile = V1 ? 'memory.limit_in_bytes' : 'memory.max';
const CHILD = fileURLToPath(new URL('./unlimited-child.ts', import.meta.url));

async function supervisor(): Promise<{ sv: Supervisor; stateDir: string }> {
  const stateDir = tempDir();
  return { sv: await openSupervisor({ stateDir }), stateDir };
}

/** The bytes a file holds so far (0 before it exists). */
const sizeOf = (path: string) => statSync(path, { throwIfNoEntry: false })?.size ?? 0;
const pause = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe.skipIf(!CGROUPS)('a cgroup per container (process runtime, root)', () => {
  it('a 16 MiB memory limit OOM-kills a process that allocates more: oom, then exit 137', async () => {
    const { sv, stateDir } = await supervisor();
    await sv.create({ id: 'm', process: { args: ['sh', '-c', 'head -c 64M /dev/zero | tail'] }, resources: { memory: { limit: 16 * MiB } } });
    const dirs = cgroupDirs(stateDir, 'm');
    await sv.start('m');
    expect((await sv.wait('m')).status).toBe(137);
    const events = await storedEvents(sv);
    expect(brief(events)).toEqual(['create', 'start-container:init', 'oom', 'exit:init=137']);
    checkOrdering(events);
    // Its init gone, the cgroup has no more use: removed, even before the container is deleted.
    await expect.poll(() => dirs.filter((dir) => existsSync(dir))).toEqual([]);
  });

  it('a pids limit of 8 stops a fork bomb, and the supervisor stays healthy', async () => {
    const { sv, stateDir } = await supervisor();
    await sv.create({ id: 'bomb', process: { args: ['sh', '-c', 'f() { f | f & }; f; sleep 30'] }, resources: { pids: { limit: 8 } } });
    const pids = cgroupDir(stateDir, 'bomb', 'pids');
    expect(cgroupFile(pids, 'pids.max')).toBe('8');
    await sv.start('bomb');
    // The kernel refused forks beyond the limit (pids.events counts them), and never let more than 8 run.
    await expect.poll(() => Number(/max (\d+)/.exec(cgroupFile(pids, 'pids.events'))?.[1]), { timeout: 10_000 }).toBeGreaterThan(0);
    for (let i = 0; i < 10; i++) {
      expect((await sv.stats('bomb')).pids.current).toBeLessThanOrEqual(8);
      await pause(20);
    }
    await sv.create({ id: 'ok', process: { args: ['sh', '-c', 'echo fine'] } });
    await sv.start('ok');
    expect((await sv.wait('ok')).status).toBe(0);
    expect(await sv.logs('ok')).toBe('fine\n');
    expect(sv.list().map((c) => c.id)).toEqual(['bomb', 'ok']);
    await sv.delete('bomb', { force: true });
    expect(existsSync(pids)).toBe(false);
  });

  it('stats reports memory and pids; an exec joins the container’s cgroup, its monitor stays outside it', async () => {
    const { sv, stateDir } = await supervisor();
    await sv.create({ id: 's', process: { args: ['sleep', '30'] }, resources: { memory: { limit: 64 * MiB }, pids: { limit: 32 } } });
    await sv.start('s');
    const { pid } = await sv.exec('s', { execId: 'e', args: ['sleep', '30'] });
    const stats = await sv.stats('s');
    expect(stats.memory.limit).toBe(64 * MiB);
    expect(stats.memory.usage).toBeGreaterThan(0);
    expect(stats.pids).toEqual({ current: 2, limit: 32 });
    const memory = cgroupDir(stateDir, 's', 'memory');
    expect(cgroupFile(memory, 'cgroup.procs').split('\n').map(Number)).toContain(pid);
    expect(cgroupFile(memory, 'cgroup.procs').split('\n').map(Number)).not.toContain(parentPid(pid));
  });

  it('update changes the limits, read back from the cgroup; one it cannot set is refused and changes nothing', async () => {
    const { sv, stateDir } = await supervisor();
    await sv.create({ id: 'u', process: { args: ['sleep', '30'] }, resources: { memory: { limit: 64 * MiB } } });
    await sv.start('u');
    await sv.update('u', { memory: { limit: 32 * MiB }, pids: { limit: 16 } });
    expect(Number(cgroupFile(cgroupDir(stateDir, 'u', 'memory'), memoryLimitFile))).toBe(32 * MiB);
    expect(cgroupFile(cgroupDir(stateDir, 'u', 'pids'), 'pids.max')).toBe('16');
    await expect(sv.update('u', { pids: { limit: 4 }, cpu: { cpus: '0' } })).rejects.toMatchObject({ code: 'unsupported' });
    await expect(sv.update('u', { memory: { limit: 'lots' as unknown as number } })).rejects.toMatchObject({ code: 'invalid-spec' });
    expect(cgroupFile(cgroupDir(stateDir, 'u', 'pids'), 'pids.max')).toBe('16');
  });

  it('pause freezes the cgroup (no progress), resume thaws it', async () => {
    const { sv, stateDir } = await supervisor();
    const progress = join(tempDir(), 'progress');
    await sv.create({ id: 'p', process: { args: ['sh', '-c', `while :; do echo x >> ${progress}; sleep 0.01; done`] } });
    const { pid } = await sv.start('p');
    await expect.poll(() => sizeOf(progress)).toBeGreaterThan(0);
    const freezer = cgroupDir(stateDir, 'p', 'freezer');
    await sv.pause('p');
    expect(V1 ? cgroupFile(freezer, 'freezer.state') : cgroupFile(freezer, 'cgroup.events')).toMatch(V1 ? /^FROZEN$/ : /frozen 1/);
    expect(paused(pid)).toBe(true);
    const frozenAt = sizeOf(progress);
    await pause(200);
    expect(sizeOf(progress)).toBe(frozenAt);
    await sv.resume('p');
    await expect.poll(() => sizeOf(progress)).toBeGreaterThan(frozenAt);
  });

  it('two supervisors with the same container id never share a cgroup', async () => {
    const [a, b] = [await supervisor(), await supervisor()];
    for (const { sv } of [a, b]) await sv.create({ id: 'same', process: { args: ['true'] } });
    const [dirsA, dirsB] = [cgroupDirs(a.stateDir, 'same'), cgroupDirs(b.stateDir, 'same')];
    expect(dirsA.every((dir) => /\/berth\/[0-9a-f]{12}\/same$/.test(dir))).toBe(true);
    expect(dirsA.filter((dir) => dirsB.includes(dir))).toEqual([]);
  });
});

/**
 * A setsid grandchild out of every monitor's reach: the exec that started it
 * had its monitor killed while no supervisor (and so no zygote) ran. Only the
 * container's cgroup still holds it.
 */
async function escapedGrandchild(): Promise<{ sv: Supervisor; grandchild: number }> {
  const stateDir = tempDir();
  const marker = join(tempDir(), 'grandchild');
  const first = await openSupervisor({ stateDir });
  await first.create({ id: 'c', process: { args: ['sleep', '300'] } });
  await first.start('c');
  const { pid } = await first.exec('c', { execId: 'e', args: ['sh', '-c', `setsid sleep 300 & echo $! > ${marker}.tmp && mv ${marker}.tmp ${marker}; exec sleep 300`] });
  await expect.poll(() => existsSync(marker)).toBe(true);
  const grandchild = Number(readFileSync(marker, 'utf8'));
  await first.close({ leaveRunning: true });
  process.kill(parentPid(pid)!, 'SIGKILL');
  const sv = await openSupervisor({ stateDir });
  expect((await sv.wait('c', 'e')).reason).toBe('shim-lost');
  expect(processRunning(grandchild)).toBe(true);
  return { sv, grandchild };
}

describe.skipIf(!CGROUPS)('nothing of a container outlives it (process runtime, root)', () => {
  it.each([
    ['init exits', (sv: Supervisor) => sv.signal('c', 'init', 'SIGKILL').then(() => sv.wait('c'))],
    ['delete', (sv: Supervisor) => sv.delete('c', { force: true })],
    ['close', (sv: Supervisor) => sv.close()],
  ])('a setsid grandchild its monitor lost is gone once %s', async (_, end) => {
    const { sv, grandchild } = await escapedGrandchild();
    await end(sv);
    expect(processRunning(grandchild)).toBe(false);
  });

  it('restore finds the cgroup of a container whose init monitor was killed while no supervisor ran, and empties it', async () => {
    const stateDir = tempDir();
    const marker = join(tempDir(), 'grandchild');
    const first = await openSupervisor({ stateDir });
    await first.create({ id: 'c', process: { args: ['sh', '-c', `setsid sleep 300 & echo $! > ${marker}.tmp && mv ${marker}.tmp ${marker}; exec sleep 300`] } });
    const { pid } = await first.start('c');
    await expect.poll(() => existsSync(marker)).toBe(true);
    const grandchild = Number(readFileSync(marker, 'utf8'));
    await first.close({ leaveRunning: true });
    process.kill(parentPid(pid)!, 'SIGKILL');
    const sv = await openSupervisor({ stateDir });
    await sv.wait('c');
    await expect.poll(() => processRunning(grandchild)).toBe(false);
    const dirs = cgroupDirs(stateDir, 'c');
    await sv.delete('c');
    expect(dirs.filter((dir) => existsSync(dir))).toEqual([]);
  });
});

describe.skipIf(process.getuid?.() !== 0)('without cgroups (an unprivileged supervisor)', () => {
  it('says so once, keeps process groups, and refuses resources with unsupported, leaving nothing behind', async () => {
    const home = tempDir();
    const stateDir = join(home, 'state');
    mkdirSync(join(home, 'tmp'));
    chownSync(home, 65534, 65534);
    chownSync(join(home, 'tmp'), 65534, 65534);
    const { stdout } = await promisify(execFile)(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', 'tsx', CHILD, stateDir],
      { env: { PATH: process.env.PATH, HOME: home, TMPDIR: join(home, 'tmp') }, cwd: process.cwd(), timeout: 60_000 },
    );
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({
      create: 'unsupported',
      leftover: false,
      update: 'unsupported',
      stats: 'unsupported',
      list: ['plain'],
      warnings: 1,
    });
  });
});
