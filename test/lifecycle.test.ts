import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isBerthError } from '../src/index.js';
import { checkOrdering } from './ordering.js';
import { brief, groupAlive, openSupervisor, stateOf, storedEvents } from './helpers.js';
import { CGROUPS, paused } from './support/cgroups.js';

describe('container lifecycle on the process runtime', () => {
  it('journals create, start-container, exit and delete, and settles each call after its row', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 'c1', process: { args: ['sh', '-c', 'exit 3'] }, labels: { team: 'ci' } });
    expect(sv.get('c1')).toMatchObject({ status: 'created', labels: { team: 'ci' } });
    expect(brief(await storedEvents(sv))).toEqual(['create']);
    const { pid } = await sv.start('c1');
    expect(pid).toBeGreaterThan(0);
    const exit = await sv.wait('c1');
    expect(exit.status).toBe(3);
    expect(sv.get('c1').status).toBe('exited');
    await sv.delete('c1');
    expect(() => sv.get('c1')).toThrow(/not found/);
    const events = await storedEvents(sv);
    expect(brief(events)).toEqual(['create', 'start-container:init', 'exit:init=3', 'delete']);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(events[1]).toMatchObject({ from: 'created', to: 'running', pid });
  });

  it('journals start-container before the exit of a process that exits at once', async () => {
    const sv = await openSupervisor();
    for (let i = 0; i < 10; i++) {
      await sv.create({ id: `t${i}`, process: { args: ['true'] } });
      await sv.start(`t${i}`);
    }
    for (let i = 0; i < 10; i++) await sv.wait(`t${i}`);
    for (let i = 0; i < 10; i++) {
      const rows = await storedEvents(sv, { id: `t${i}` });
      expect(brief(rows)).toEqual(['create', 'start-container:init', 'exit:init=0']);
      // Start rows carry when the process was exec'd, so a start never appears to follow its exit.
      expect(rows[1]!.time.getTime()).toBeLessThanOrEqual(rows[2]!.time.getTime());
    }
  });

  it('reports a signal death as 128+N with the signal name', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 'term', process: { args: ['sleep', '30'] } });
    await sv.start('term');
    await sv.signal('term', 'init', 'SIGTERM');
    expect(await sv.wait('term')).toMatchObject({ status: 143, signal: 'SIGTERM' });
    await sv.create({ id: 'kill', process: { args: ['sleep', '30'] } });
    await sv.start('kill');
    await sv.signal('kill', 'init', 9);
    expect(await sv.wait('kill')).toMatchObject({ status: 137, signal: 'SIGKILL' });
  });

  it('runs execs, and publishes every exec exit before the init exit', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 'c', process: { args: ['sleep', '0.5'] } });
    await sv.start('c');
    await sv.exec('c', { execId: 'quick', args: ['sh', '-c', 'echo -n Ay Caramba!; exit 1'] });
    await sv.exec('c', { execId: 'slow', args: ['sleep', '30'] });
    expect(await sv.wait('c', 'quick')).toMatchObject({ status: 1 });
    expect(await sv.logs('c', 'quick')).toBe('Ay Caramba!');
    const init = await sv.wait('c');
    expect(init.status).toBe(0);
    expect(sv.get('c').processes.find((p) => p.id === 'slow')).toMatchObject({ status: 'exited', exitStatus: 137 });
    const order = brief(await storedEvents(sv));
    expect([...order].sort()).toEqual(
      ['create', 'start-container:init', 'start-process:quick', 'start-process:slow', 'exit:quick=1', 'exit:slow=137', 'exit:init=0'].sort(),
    );
    expect(order.indexOf('exit:quick=1')).toBeGreaterThan(order.indexOf('start-process:quick'));
    expect(order.indexOf('exit:slow=137')).toBeGreaterThan(order.indexOf('start-process:slow'));
    expect(order.at(-1)).toBe('exit:init=0');
  });

  it('kills one exec while the container lives on', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 'c', process: { args: ['sleep', '30'] } });
    await sv.start('c');
    await sv.exec('c', { execId: 'top', args: ['sleep', '30'] });
    await sv.signal('c', 'top', 'SIGKILL');
    expect((await sv.wait('c', 'top')).status).toBe(137);
    expect(sv.get('c').status).toBe('running');
  });

  it('refuses an exec once init has exited', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 'c', process: { args: ['true'] } });
    await sv.start('c');
    await sv.wait('c');
    const err = await sv.exec('c', { execId: 'late', args: ['true'] }).catch((e: unknown) => e);
    expect(isBerthError(err, 'invalid-state')).toBe(true);
    expect(sv.get('c').processes.map((p) => p.id)).toEqual(['init']);
  });

  it('kills the whole process tree of init, leaving no orphan and no zombie behind', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 'tree', process: { args: ['sh', '-c', 'sleep 30 & sleep 30 & wait'] } });
    const { pid } = await sv.start('tree');
    await sv.exec('tree', { execId: 'detach', args: ['sh', '-c', 'sleep 1000 >/dev/null 2>&1 </dev/null &'] });
    const detached = sv.get('tree').processes.find((p) => p.id === 'detach')!.pid!;
    expect((await sv.wait('tree', 'detach')).status).toBe(0);
    // The exec's detached child lives on inside the container, as in containerd's ExecCreateDetachedChild.
    expect(groupAlive(detached)).toBe(true);
    await sv.signal('tree', 'init', 'SIGTERM');
    expect((await sv.wait('tree')).status).toBe(143);
    await expect.poll(() => groupAlive(pid) || groupAlive(detached)).toBe(false);
  });

  it('pauses and resumes every process of a container', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 'p', process: { args: ['sleep', '30'] } });
    const { pid } = await sv.start('p');
    await sv.pause('p');
    expect(sv.get('p').status).toBe('paused');
    expect(paused(pid)).toBe(true);
    await expect(sv.exec('p', { execId: 'e', args: ['true'] })).rejects.toMatchObject({ code: 'invalid-state' });
    await sv.resume('p');
    expect(sv.get('p').status).toBe('running');
    expect(paused(pid)).toBe(false);
    expect(brief(await storedEvents(sv))).toEqual(['create', 'start-container:init', 'pause', 'resume']);
  });

  it('refuses to delete a running container unless forced, then kills it and journals its exit', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 'd', process: { args: ['sleep', '30'] } });
    await sv.start('d');
    await sv.exec('d', { execId: 'e', args: ['sleep', '30'] });
    await expect(sv.delete('d')).rejects.toMatchObject({ code: 'invalid-state' });
    expect(sv.get('d').status).toBe('running');
    await sv.delete('d', { force: true });
    expect(sv.list()).toEqual([]);
    expect(brief(await storedEvents(sv))).toEqual([
      'create',
      'start-container:init',
      'start-process:e',
      'exit:e=137',
      'exit:init=137',
      'delete',
    ]);
  });

  it('kills what still runs on close and journals those exits', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 'z', process: { args: ['sleep', '30'] } });
    const { pid } = await sv.start('z');
    await sv.close();
    expect(groupAlive(pid)).toBe(false);
    await expect(sv.start('z')).rejects.toMatchObject({ code: 'closed' });
  });

  it('lists containers with their processes', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 'a', process: { args: ['sleep', '30'] } });
    await sv.create({ id: 'b', process: { args: ['sleep', '30'] } });
    await sv.start('b');
    await sv.exec('b', { execId: 'x', args: ['sleep', '30'] });
    const list = sv.list();
    expect(list.map((c) => [c.id, c.status])).toEqual([
      ['a', 'created'],
      ['b', 'running'],
    ]);
    expect(list[1]!.processes.map((p) => [p.id, p.status])).toEqual([
      ['init', 'running'],
      ['x', 'running'],
    ]);
  });
});

/** Where a cgroup v2 hierarchy is mounted and root may make groups in it; undefined otherwise. */
function cgroup2Root(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const mount = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .find((fields) => fields[fields.indexOf('-') + 1] === 'cgroup2');
  const root = mount?.[4];
  if (!root) return undefined;
  try {
    const probe = join(root, `berth-probe-${process.pid}`);
    mkdirSync(probe);
    rmdirSync(probe);
    return root;
  } catch {
    return undefined;
  }
}

const CGROUP2 = cgroup2Root();

// The pause held in flight is SIGSTOP's, the process runtime's way only for containers without a cgroup.
describe.skipIf(!CGROUP2 || CGROUPS)('a pause in flight when init exits (root, cgroup v2, no cgroup per container)', () => {
  it('settles with invalid-state, journals no pause, and the container can still be deleted', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 'race', process: { args: ['sleep', '30'] } });
    const { pid: initPid } = await sv.start('race');
    const { pid: heldPid } = await sv.exec('race', { execId: 'held', args: ['sleep', '30'] });
    // Frozen by the cgroup v2 freezer, the exec never takes its SIGSTOP: the pause stays in flight until the exec dies.
    const group = join(CGROUP2!, `berth-held-${process.pid}`);
    mkdirSync(group);
    try {
      writeFileSync(join(group, 'cgroup.procs'), String(heldPid));
      writeFileSync(join(group, 'cgroup.freeze'), '1');
      const pausing = sv.pause('race').then(
        () => 'paused',
        (err: unknown) => err,
      );
      await expect.poll(() => stateOf(initPid)).toBe('T'); // the pause is under way
      // init exits while the pause waits for the held exec; its exit is learned before the exec dies with it.
      process.kill(initPid, 'SIGKILL');
      expect(await pausing).toMatchObject({ code: 'invalid-state', message: 'container race exited while pausing' });
      expect((await sv.wait('race')).status).toBe(137);
      expect(sv.get('race').processes.map((p) => [p.id, p.exitStatus])).toEqual([
        ['init', 137],
        ['held', 137],
      ]);
      await sv.delete('race');
    } finally {
      writeFileSync(join(group, 'cgroup.freeze'), '0');
      await sv.delete('race', { force: true }).catch(() => undefined);
      await expect.poll(() => readFileSync(join(group, 'cgroup.procs'), 'utf8')).toBe('');
      rmdirSync(group);
    }
    const events = await storedEvents(sv);
    checkOrdering(events);
    expect(brief(events)).toEqual(['create', 'start-container:init', 'start-process:held', 'exit:held=137', 'exit:init=137', 'delete']);
  });
});
