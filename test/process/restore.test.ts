import { existsSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { judgeProcess } from '../../src/io/process/process-restore.js';
import { readRecord } from '../../src/io/process/shim-records.js';
import { processStartTime } from '../../src/io/os/os-process.js';
import { Supervisor } from '../../src/index.js';
import { brief, briefSince, groupAlive, groupRunning, openSupervisor, storedEvents, tempDir } from '../helpers.js';
import { checkOrdering } from '../ordering.js';
import { paused } from '../support/cgroups.js';
import { runThenCrash } from '../support/crash.js';
import { mark, markedProcesses, unmark } from './shim-processes.js';


describe('restore after the supervisor is killed (process runtime)', () => {
  it('after create: the container is still created, and starts', async () => {
    const stateDir = tempDir();
    await runThenCrash(stateDir, ['create:c:sleep 30']);
    const sv = await openSupervisor({ stateDir });
    expect(sv.get('c').status).toBe('created');
    await sv.start('c');
    expect(sv.get('c').status).toBe('running');
    checkOrdering(await storedEvents(sv));
  });

  it('after start: init is re-adopted, and its later exit is journaled with its real status', async () => {
    const stateDir = tempDir();
    const crashed = await runThenCrash(stateDir, ['create:c:sleep 30', 'start:c']);
    const sv = await openSupervisor({ stateDir });
    expect(sv.get('c')).toMatchObject({ status: 'running', pid: crashed.pids['c/init'] });
    expect(await briefSince(sv, crashed.lastSeq)).toEqual([]);
    process.kill(-crashed.pids['c/init']!, 'SIGTERM');
    expect(await sv.wait('c')).toMatchObject({ status: 143, signal: 'SIGTERM' });
    expect(await briefSince(sv, crashed.lastSeq)).toEqual(['exit:init=143']);
  });

  it('while paused: restored as paused, resumable, and killable (moby#31699)', async () => {
    const stateDir = tempDir();
    // `exec`: init is sleep itself, whose stopped state reads 'T' (a shell waiting on a stopped child sits in 'D').
    const crashed = await runThenCrash(stateDir, ['create:c:exec sleep 30', 'start:c', 'pause:c']);
    const sv = await openSupervisor({ stateDir });
    expect(sv.get('c').status).toBe('paused');
    expect(paused(crashed.pids['c/init']!)).toBe(true);
    await sv.resume('c');
    expect(paused(crashed.pids['c/init']!)).toBe(false);
    await sv.pause('c');
    await sv.signal('c', 'init', 'SIGKILL');
    expect((await sv.wait('c')).status).toBe(137);
  });

  it('ten containers across a crash: two killed while down report 137, eight run on and take execs (TestRestart)', async () => {
    const stateDir = tempDir();
    const ids = Array.from({ length: 10 }, (_, i) => `top${i}`);
    const crashed = await runThenCrash(stateDir, ids.flatMap((id) => [`create:${id}:sleep 30`, `start:${id}`]));
    for (const id of ['top2', 'top4']) process.kill(-crashed.pids[`${id}/init`]!, 'SIGKILL');
    const sv = await openSupervisor({ stateDir });
    for (const id of ['top2', 'top4']) expect((await sv.wait(id)).status).toBe(137);
    expect(sv.list().filter((c) => c.status === 'running').map((c) => c.id)).toEqual(ids.filter((id) => id !== 'top2' && id !== 'top4'));
    await sv.exec('top1', { execId: 'echo', args: ['sh', '-c', 'echo -n Success!'] });
    expect((await sv.wait('top1', 'echo')).status).toBe(0);
    expect(await sv.logs('top1', 'echo')).toBe('Success!');
    expect(await briefSince(sv, crashed.lastSeq)).toEqual(['exit:init=137', 'exit:init=137', 'start-process:echo', 'exit:echo=0']);
  });

  it('an exec killed while no supervisor ran gets its real status (RestoreDeadExec)', async () => {
    const stateDir = tempDir();
    const crashed = await runThenCrash(stateDir, ['create:c:sleep 30', 'start:c', 'exec:c:sleeper:sleep 30']);
    process.kill(-crashed.pids['c/sleeper']!, 'SIGKILL');
    await expect.poll(() => readRecord(join(stateDir, 'containers/c'), 'sleeper').exited).toBeDefined();
    const sv = await openSupervisor({ stateDir });
    expect(await briefSince(sv, crashed.lastSeq)).toEqual(['exit:sleeper=137']);
    expect(sv.get('c').status).toBe('running');
  });

  it('init exiting while down: running execs are killed, and every exec exit is journaled before init\'s', async () => {
    const stateDir = tempDir();
    const crashed = await runThenCrash(stateDir, ['create:c:sleep 30', 'start:c', 'exec:c:e1:sleep 30', 'exec:c:e2:sleep 30']);
    process.kill(-crashed.pids['c/init']!, 'SIGKILL');
    await expect.poll(() => readRecord(join(stateDir, 'containers/c'), 'init').exited).toBeDefined();
    const sv = await openSupervisor({ stateDir });
    expect((await sv.wait('c')).status).toBe(137);
    const after = await briefSince(sv, crashed.lastSeq);
    expect(after.at(-1)).toBe('exit:init=137');
    expect(after.slice(0, 2).sort()).toEqual(['exit:e1=137', 'exit:e2=137']);
    expect(groupAlive(crashed.pids['c/e1']!) || groupAlive(crashed.pids['c/e2']!)).toBe(false);
    checkOrdering(await storedEvents(sv));
  });

  it('a subscriber resuming from its last seq sees every event exactly once across the crash', async () => {
    const stateDir = tempDir();
    const crashed = await runThenCrash(stateDir, ['create:a:sleep 30', 'start:a', 'create:b:exit 4', 'start:b', 'exec:a:x:exit 2']);
    const sv = await openSupervisor({ stateDir });
    const seen: number[] = [];
    const subscription = sv.events({ after: crashed.lastSeq }).subscribe((e) => seen.push(e.seq));
    await sv.signal('a', 'init', 'SIGKILL');
    await sv.wait('a');
    await sv.delete('a');
    await expect.poll(() => seen.at(-1)).toBe(sv.lastSeq);
    subscription.unsubscribe();
    const all = await storedEvents(sv);
    // What the subscriber had seen before the crash, then what it saw after: the whole journal, once each.
    expect([...all.filter((e) => e.seq <= crashed.lastSeq).map((e) => e.seq), ...seen]).toEqual(all.map((e) => e.seq));
    checkOrdering(all);
    expect(brief(all).filter((e) => e.startsWith('exit:')).sort()).toEqual(['exit:init=137', 'exit:init=4', 'exit:x=2']);
  });

  it('a shim killed while down gives exit 255 shim-lost, never 0, and the id can be reused (SigkillShimReuseName)', async () => {
    const stateDir = tempDir();
    const crashed = await runThenCrash(stateDir, ['create:c:sleep 30', 'start:c']);
    const pidFile = readdirSync(join(stateDir, 'containers/c')).includes('init.record');
    expect(pidFile).toBe(true);
    const record = readRecord(join(stateDir, 'containers/c'), 'init').started!;
    process.kill(record.monitorPid, 'SIGKILL');
    const sv = await openSupervisor({ stateDir });
    expect(await sv.wait('c')).toMatchObject({ status: 255, reason: 'shim-lost' });
    // Nobody could report its end, so it does not run on unsupervised. (With its monitor gone,
    // reaping the corpse falls to the machine's pid 1.)
    await expect.poll(() => groupRunning(crashed.pids['c/init']!)).toBe(false);
    await sv.delete('c');
    await sv.create({ id: 'c', process: { args: ['true'] } });
    await sv.start('c');
    expect((await sv.wait('c')).status).toBe(0);
  });

  it('a shim killed while the supervisor runs is noticed: 255 shim-lost (ExecKillShimNoPanic)', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 'c', process: { args: ['sleep', '30'] } });
    await sv.start('c');
    await sv.exec('c', { execId: 'top', args: ['sleep', '30'] });
    const record = readRecord(join(sv.stateDir, 'containers/c'), 'top').started!;
    process.kill(record.monitorPid, 'SIGKILL');
    expect(await sv.wait('c', 'top')).toMatchObject({ status: 255, reason: 'shim-lost' });
    expect(sv.get('c').status).toBe('running');
  });

  it('does not mistake a reused pid for the original process', () => {
    const dir = tempDir();
    const me = process.pid;
    const wrongStart = (processStartTime(me) ?? 0) + 12345;
    const line = (text: string) => `${text.padEnd(127)}\n`;
    writeFileSync(join(dir, 'init.record'), line(`0123456789abcdef ${me} ${wrongStart} ${me} ${wrongStart} 1`) + line(''));
    const killed: number[] = [];
    const fate = judgeProcess(dir, 'init', ({ pid }) => killed.push(pid));
    expect(fate).toMatchObject({ kind: 'exited', exit: { status: 255, reason: 'shim-lost' } });
    expect(killed).toEqual([]); // our own pid, reused as far as the record knows: never killed
  });

  it('re-adopts what close({ leaveRunning }) left running', async () => {
    const stateDir = tempDir();
    const first = await Supervisor.open({ stateDir });
    await first.create({ id: 'keep', process: { args: ['sleep', '30'] } });
    const { pid } = await first.start('keep');
    await first.close({ leaveRunning: true });
    expect(groupAlive(pid)).toBe(true);
    const second = await openSupervisor({ stateDir });
    expect(second.get('keep')).toMatchObject({ status: 'running', pid });
    await second.signal('keep', 'init', 'SIGKILL');
    expect((await second.wait('keep')).status).toBe(137);
  });

  it('moves aside, journals, and never deletes a container directory it cannot load', async () => {
    const stateDir = tempDir();
    mkdirSync(join(stateDir, 'containers/stray'), { recursive: true });
    writeFileSync(join(stateDir, 'containers/stray/evidence.log'), 'keep me');
    const sv = await openSupervisor({ stateDir });
    const events = await storedEvents(sv);
    expect(events).toMatchObject([{ type: 'quarantine', id: 'stray' }]);
    expect(events[0]!.reason).toMatch(/moved to .*quarantine/);
    const [moved] = readdirSync(join(stateDir, 'quarantine'));
    expect(readdirSync(join(stateDir, 'quarantine', moved!))).toEqual(['evidence.log']);
    await sv.create({ id: 'stray', process: { args: ['true'] } });
  });

  it('a container whose state directory vanished reports its processes as lost (255), not as exited cleanly', async () => {
    const stateDir = tempDir();
    const crashed = await runThenCrash(stateDir, ['create:c:sleep 30', 'start:c']);
    process.kill(-crashed.pids['c/init']!, 'SIGKILL');
    await expect.poll(() => readRecord(join(stateDir, 'containers/c'), 'init').exited).toBeDefined();
    rmSync(join(stateDir, 'containers/c'), { recursive: true, force: true });
    const sv = await openSupervisor({ stateDir });
    expect(await sv.wait('c')).toMatchObject({ status: 255, reason: 'state-lost' });
  });
});

describe('restore: what is left of exited processes', () => {
  it('an exec that exited before a restart leaves nothing running past init\'s exit and delete', async () => {
    const stateDir = tempDir();
    const token = mark();
    try {
      const first = await Supervisor.open({ stateDir });
      await first.create({ id: 'c', process: { args: ['sleep', '30'], inheritEnv: true } });
      await first.start('c');
      await first.exec('c', { execId: 'e', args: ['sh', '-c', 'sleep 30 & exit 0'] });
      expect((await first.wait('c', 'e')).status).toBe(0);
      await first.close({ leaveRunning: true });
      const sv = await openSupervisor({ stateDir });
      await sv.signal('c', 'init', 'SIGKILL');
      expect((await sv.wait('c')).status).toBe(137);
      await sv.delete('c');
      await expect.poll(() => markedProcesses(token)).toEqual([]);
    } finally {
      unmark();
    }
  });

  it('a container created but never started, whose state dir vanished, never started', async () => {
    const stateDir = tempDir();
    const first = await Supervisor.open({ stateDir });
    await first.create({ id: 'c', process: { args: ['sleep', '30'] } });
    await first.close({ leaveRunning: true });
    rmSync(join(stateDir, 'containers/c'), { recursive: true, force: true });
    const sv = await openSupervisor({ stateDir });
    expect(sv.get('c').status).toBe('created');
    expect(brief(await storedEvents(sv))).toEqual(['create']);
  });
});

describe('one supervisor per state dir', () => {
  it('refuses a second open, naming the holder', async () => {
    const stateDir = tempDir();
    await openSupervisor({ stateDir });
    const err = await Supervisor.open({ stateDir }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'locked', message: expect.stringContaining(`pid ${process.pid}`) });
  });

  it('takes over the stale lock of a killed supervisor', async () => {
    const stateDir = tempDir();
    const crashed = await runThenCrash(stateDir, []);
    expect(existsSync(join(stateDir, 'lock'))).toBe(true);
    expect(crashed.pid).not.toBe(process.pid);
    const sv = await openSupervisor({ stateDir });
    expect(sv.list()).toEqual([]);
  });
});
