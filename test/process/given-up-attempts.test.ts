import { chmodSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Supervisor } from '../../src/index.js';
import { DEFAULT_SHIM_PATH, ShimClient } from '../../src/io/process/shim-client.js';
import { reserveRecord } from '../../src/io/process/shim-records.js';
import { brief, openSupervisor, storedEvents, tempDir } from '../helpers.js';
import { mark, markedProcesses, unmark, onTinyDisk, startTimedOut } from './shim-processes.js';

const isRoot = process.getuid?.() === 0;

afterEach(unmark);

describe('process runtime: attempts that fail leave nothing to restore', () => {
  it('a start that timed out is never journaled by a later open, and what started late is ended', async () => {
    const stateDir = tempDir();
    const token = mark();
    const sv = await Supervisor.open({ stateDir, startTimeoutMs: 1_000 });
    await startTimedOut(sv);
    await expect.poll(() => markedProcesses(token).length, { timeout: 10_000 }).toBe(1); // warm's init only
    await sv.close({ leaveRunning: true });
    const again = await openSupervisor({ stateDir });
    expect(again.get('c').status).toBe('created');
    expect(brief(await storedEvents(again, { id: 'c' }))).toEqual(['create']);
  }, 60_000);

  it('a start that finds the disk full fails with disk-full', async (context) => {
    if (!isRoot) return context.skip();
    const stateDir = tempDir();
    const sv = await openSupervisor({ stateDir });
    await sv.create({ id: 'c', process: { args: ['sleep', '30'] } });
    await onTinyDisk(join(stateDir, 'containers/c'), async (fill) => {
      fill();
      await expect(sv.start('c')).rejects.toMatchObject({ code: 'disk-full' });
    });
  });
});

describe('process runtime: the zygote cannot be run', () => {
  it('a spawn fails with a BerthError, and the next one tries the zygote again', async () => {
    const shimPath = join(tempDir(), 'berth-shim');
    copyFileSync(DEFAULT_SHIM_PATH, shimPath);
    chmodSync(shimPath, 0o600); // not executable: EACCES
    const dir = tempDir();
    const shim = new ShimClient(shimPath);
    const request = { dir, processId: 'x', init: true, args: ['true'], env: {}, cwd: '/' };
    const gen = (generation: string) => ({ ...request, generation });
    await expect(shim.spawn(gen('0123456789abcdef'), () => {}, 10_000)).rejects.toMatchObject({ code: 'runtime-error', message: expect.stringContaining('EACCES') });
    chmodSync(shimPath, 0o700);
    const exited = new Promise((done) => shim.spawn(gen(reserveRecord(dir, 'x')), done, 10_000).catch(done));
    expect(await exited).toMatchObject({ code: 0 });
    shim.close();
  });
});
