import { afterEach, describe, expect, it } from 'vitest';
import { Supervisor } from '../../src/index.js';
import { brief, groupRunning, openSupervisor, storedEvents, tempDir } from '../helpers.js';
import { mark, markedProcesses, unmark } from './shim-processes.js';

afterEach(unmark);

// A job is its monitor's child, of the same uid: it can stop or kill it.
describe('process runtime: a job turning on its own monitor', () => {
  it('a monitor stopped by its job is continued: the exit is reported, and close() ends', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 'c', process: { args: ['sh', '-c', 'kill -STOP $PPID; exit 3'] } });
    await sv.start('c');
    expect((await sv.wait('c')).status).toBe(3);
    await sv.close();
  }, 30_000);

  it('delete({ force }) ends a container whose job stopped its monitor', async () => {
    const token = mark();
    const sv = await openSupervisor();
    await sv.create({ id: 'c', process: { args: ['sh', '-c', 'setsid sleep 30 & kill -STOP $PPID; sleep 30'], inheritEnv: true } });
    await sv.start('c');
    await expect.poll(() => markedProcesses(token).length).toBe(3);
    await sv.delete('c', { force: true });
    await expect.poll(() => markedProcesses(token)).toEqual([]);
  }, 30_000);

  it('a job that keeps stopping its monitor cannot hold up close()', async () => {
    const token = mark();
    const sv = await openSupervisor();
    await sv.create({ id: 'c', process: { args: ['sh', '-c', 'setsid sleep 30 & while kill -STOP $PPID; do sleep 0.05; done'], inheritEnv: true } });
    await sv.start('c');
    await sv.close();
    await expect.poll(() => markedProcesses(token, { shims: true })).toEqual([]);
  }, 60_000);

  it('an adopted monitor its job keeps stopping is killed, as lost (255), and close() ends', async () => {
    const stateDir = tempDir();
    const first = await Supervisor.open({ stateDir });
    await first.create({ id: 'c', process: { args: ['sh', '-c', 'sleep 1; while kill -STOP $PPID; do sleep 0.05; done'] } });
    const { pid } = await first.start('c');
    await first.close({ leaveRunning: true }); // its zygote, which would continue it, is gone
    const sv = await openSupervisor({ stateDir });
    expect(await sv.wait('c')).toMatchObject({ status: 255, reason: 'shim-lost' });
    await expect.poll(() => groupRunning(pid)).toBe(false);
    await sv.close();
  }, 60_000);

  it('the orphans of a monitor its job killed are killed by the zygote', async () => {
    const token = mark();
    const sv = await openSupervisor();
    await sv.create({ id: 'c', process: { args: ['sh', '-c', 'setsid sleep 30 & sleep 0.2; kill -9 $PPID; sleep 30'], inheritEnv: true } });
    await sv.start('c');
    expect(await sv.wait('c')).toMatchObject({ status: 255, reason: 'shim-lost' });
    await expect.poll(() => markedProcesses(token)).toEqual([]);
    expect(brief(await storedEvents(sv))).toEqual(['create', 'start-container:init', 'exit:init=255']);
  }, 30_000);
});
