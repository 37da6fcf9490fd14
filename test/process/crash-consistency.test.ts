import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Supervisor } from '../../src/index.js';
import { judgeProcess } from '../../src/io/process/process-restore.js';
import { processRunning } from '../../src/io/os/os-process.js';
import { openSupervisor, storedEvents, tempDir } from '../helpers.js';
import { checkOrdering } from '../ordering.js';
import { runThenCrash } from '../support/crash.js';
import { mark, markedProcesses, unmark, onTinyDisk, startTimedOut } from './shim-processes.js';

const isRoot = process.getuid?.() === 0;

afterEach(() => {
  unmark();
  delete process.env.BERTH_START_TIMEOUT_MS;
});

describe('process runtime: crash consistency', () => {
  it('a request left in the pipe of a dead supervisor is never carried out, nor journaled after init exited', async () => {
    const stateDir = tempDir();
    const token = mark();
    process.env.BERTH_START_TIMEOUT_MS = '1000';
    // The zygote is stopped with an exec request unread in its pipe; the exec times out, init exits and is journaled.
    const crashed = await runThenCrash(stateDir, ['create:c:sleep 0.3', 'start:c', 'stop-shim', 'exec&:c:late:sleep 30', 'wait:c:init']);
    process.kill(crashed.pids.zygote!, 'SIGCONT');
    await expect.poll(() => processRunning(crashed.pids.zygote!), { timeout: 10_000 }).toBe(false);
    const sv = await openSupervisor({ stateDir });
    checkOrdering(await storedEvents(sv));
    expect(sv.get('c').processes.map((p) => p.id)).toEqual(['init']);
    await sv.close();
    await expect.poll(() => markedProcesses(token, { shims: true })).toEqual([]);
  });

  it('a start retried after a timeout is not reported exited by the first attempt\'s record', async () => {
    const stateDir = tempDir();
    const token = mark();
    const sv = await openSupervisor({ stateDir, startTimeoutMs: 1_000 });
    await startTimedOut(sv);
    const { pid } = await sv.start('c');
    // The first attempt started late, and was killed: only warm's init and the retried one are left.
    await expect.poll(() => markedProcesses(token).length, { timeout: 10_000 }).toBe(2);
    await sv.close({ leaveRunning: true });
    const again = await openSupervisor({ stateDir });
    expect(again.get('c')).toMatchObject({ status: 'running', pid });
    expect(processRunning(pid)).toBe(true);
  });

  it('a record that does not parse is never read as an exit', () => {
    const dir = tempDir();
    const line = (text: string) => `${text.padEnd(127)}\n`;
    const started = `0123456789abcdef ${process.pid} 1 ${process.pid} 1 5`;
    for (const text of ['garbage', line(started) + 'fedcba9876543210 0 0 1 9', line(started) + '0123456789abcdef 0 9 1 9', line(started) + '0123456789abc', '\0'.repeat(256)]) {
      writeFileSync(join(dir, 'init.record'), text);
      const fate = judgeProcess(dir, 'init', () => {});
      if (fate.kind === 'exited') expect(fate.exit).toMatchObject({ status: 255, reason: 'shim-lost' });
    }
  });

  it('init\'s exit kills nothing of an exec that already exited, even a process that took its pid', async (context) => {
    if (!isRoot) return context.skip();
    const sv = await openSupervisor();
    await sv.create({ id: 'c', process: { args: ['sleep', '30'] } });
    await sv.start('c');
    const { pid } = await sv.exec('c', { execId: 'quick', args: ['true'] });
    expect((await sv.wait('c', 'quick')).status).toBe(0);
    // A bystander that leads its own group under the exec's old pid (ns_last_pid steers the next pid).
    let bystander: ReturnType<typeof spawn> | undefined;
    // Other processes of a busy machine may take the pid first: retried, and skipped if it never works out.
    for (let attempt = 0; attempt < 200 && bystander?.pid !== pid; attempt++) {
      bystander?.kill('SIGKILL');
      writeFileSync('/proc/sys/kernel/ns_last_pid', String(pid - 1));
      bystander = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
      await new Promise((done) => bystander!.once('spawn', done));
    }
    if (bystander!.pid !== pid) {
      bystander!.kill('SIGKILL');
      return context.skip(`pid ${pid} could not be reused on purpose`);
    }
    try {
      await sv.signal('c', 'init', 'SIGKILL');
      expect((await sv.wait('c')).status).toBe(137);
      await sv.delete('c');
      expect(processRunning(pid)).toBe(true);
    } finally {
      bystander!.kill('SIGKILL');
    }
  });

  it('descendants that left the process group with setsid die with init, as in a PID namespace', async () => {
    const token = mark();
    const sv = await openSupervisor();
    await sv.create({ id: 'c', process: { args: ['sh', '-c', 'setsid sleep 30 & exec sleep 30'], inheritEnv: true } });
    await sv.start('c');
    await sv.exec('c', { execId: 'gone', args: ['sh', '-c', 'setsid sleep 30 &'] }); // exits at once, leaves one behind
    expect((await sv.wait('c', 'gone')).status).toBe(0);
    await sv.exec('c', { execId: 'stays', args: ['sh', '-c', 'setsid sleep 30 & exec sleep 30'] });
    await expect.poll(() => markedProcesses(token).length).toBe(5);
    await sv.signal('c', 'init', 'SIGKILL');
    expect((await sv.wait('c')).status).toBe(137);
    await expect.poll(() => markedProcesses(token)).toEqual([]);
    await sv.close();
    await expect.poll(() => markedProcesses(token, { shims: true })).toEqual([]);
  });

  it('setsid descendants of a live container are killed by delete({ force }) and by close()', async () => {
    const token = mark();
    const sv = await Supervisor.open({ stateDir: tempDir() });
    for (const id of ['deleted', 'closed']) {
      await sv.create({ id, process: { args: ['sh', '-c', 'setsid sleep 30 & exec sleep 30'], inheritEnv: true } });
      await sv.start(id);
    }
    await expect.poll(() => markedProcesses(token).length).toBe(4);
    await sv.delete('deleted', { force: true });
    await expect.poll(() => markedProcesses(token).length).toBe(2);
    await sv.close();
    await expect.poll(() => markedProcesses(token, { shims: true })).toEqual([]);
  });

  it('an exit is recorded on a full disk', async (context) => {
    if (!isRoot) return context.skip();
    const stateDir = tempDir();
    const sv = await Supervisor.open({ stateDir });
    await sv.create({ id: 'c', process: { args: ['sleep', '30'] } });
    // The container's dir on a tiny filesystem of its own, filled once init runs.
    await onTinyDisk(join(stateDir, 'containers/c'), async (fill) => {
      const { pid } = await sv.start('c');
      fill();
      await sv.close({ leaveRunning: true });
      process.kill(pid, 'SIGKILL');
      await expect.poll(() => processRunning(pid)).toBe(false);
      const again = await openSupervisor({ stateDir });
      expect(await again.wait('c')).toMatchObject({ status: 137, signal: 'SIGKILL' });
    });
  });
});
