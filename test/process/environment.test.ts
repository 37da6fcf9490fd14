import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Supervisor } from '../../src/index.js';
import { DEFAULT_PATH } from '../../src/io/process/process-env.js';
import { envSecret, openSupervisor, tempDir } from '../helpers.js';
import { busyboxBundle, canRunContainers } from '../support/busybox-bundle.js';

const SECRET_NAME = 'BERTH_TEST_SUPERVISOR_SECRET';
const savedPath = process.env.PATH;

const supervisorSecret = () => envSecret(SECRET_NAME);

afterEach(() => {
  process.env.PATH = savedPath;
});

/** The environment a process printed with `env`, one `KEY=value` per entry, sorted. */
async function printedEnv(sv: Supervisor, id: string, processId = 'init'): Promise<string[]> {
  expect((await sv.wait(id, processId)).status).toBe(0);
  return (await sv.logs(id, processId)).trim().split('\n').sort();
}

describe('the process runtime: a process gets exactly the environment it was given', () => {
  it("nothing of the supervisor's, plus the default PATH when it names none; an exec gets its container's env and its own", async () => {
    const secret = supervisorSecret();
    const sv = await openSupervisor();
    await sv.create({ id: 'c', process: { args: ['sh', '-c', 'env; exec sleep 30'], env: { MODE: 'ci' } } });
    await sv.start('c');
    await sv.exec('c', { execId: 'e', args: ['env'], env: { EXTRA: '1' } });
    expect(await printedEnv(sv, 'c', 'e')).toEqual(['EXTRA=1', 'MODE=ci', `PATH=${DEFAULT_PATH}`]);
    await sv.create({ id: 'own-path', process: { args: ['env'], env: { PATH: '/usr/bin:/bin' } } });
    await sv.start('own-path');
    expect(await printedEnv(sv, 'own-path')).toEqual(['PATH=/usr/bin:/bin']);
    await expect.poll(() => sv.logs('c')).toContain('MODE=ci');
    expect(await sv.logs('c')).not.toContain(secret);
  });

  it("the executable is looked up on the process's PATH, not the supervisor's", async () => {
    const bin = tempDir('berth-bin-');
    writeFileSync(join(bin, 'only-here'), '#!/bin/sh\necho found\n', { mode: 0o755 });
    process.env.PATH = `${bin}:${savedPath}`;
    const sv = await openSupervisor();
    await expect(sv.create({ id: 'default', process: { args: ['only-here'] } })).rejects.toMatchObject({
      code: 'invalid-spec',
      message: expect.stringContaining('executable file not found in $PATH'),
    });
    await sv.create({ id: 'named', process: { args: ['only-here'], env: { PATH: `${bin}:/usr/bin:/bin` } } });
    await sv.create({ id: 'inherited', process: { args: ['only-here'], inheritEnv: true } });
    for (const id of ['named', 'inherited']) {
      await sv.start(id);
      expect((await sv.wait(id)).status).toBe(0);
      expect(await sv.logs(id)).toBe('found\n');
    }
    await sv.create({ id: 'c', process: { args: ['sleep', '30'] } });
    await sv.start('c');
    await expect(sv.exec('c', { execId: 'e', args: ['only-here'] })).rejects.toMatchObject({ code: 'invalid-spec' });
  });

  it("inheritEnv: true starts from the supervisor's environment; an exec follows its container unless it says otherwise", async () => {
    const secret = supervisorSecret();
    const sv = await openSupervisor();
    await sv.create({ id: 'inherits', process: { args: ['sleep', '30'], env: { MODE: 'ci' }, inheritEnv: true } });
    await sv.create({ id: 'plain', process: { args: ['sleep', '30'] } });
    for (const id of ['inherits', 'plain']) await sv.start(id);
    const execEnv = async (id: string, execId: string, inheritEnv?: boolean) => {
      await sv.exec(id, { execId, args: ['env'], ...(inheritEnv === undefined ? {} : { inheritEnv }) });
      return printedEnv(sv, id, execId);
    };
    const inherited = await execEnv('inherits', 'follows');
    expect(inherited).toContain(`${SECRET_NAME}=${secret}`);
    expect(inherited).toContain('MODE=ci');
    expect(inherited).toContain(`PATH=${savedPath}`);
    expect(await execEnv('inherits', 'declines', false)).toEqual(['MODE=ci', `PATH=${DEFAULT_PATH}`]);
    expect(await execEnv('plain', 'follows')).toEqual([`PATH=${DEFAULT_PATH}`]);
    expect(await execEnv('plain', 'asks', true)).toContain(`${SECRET_NAME}=${secret}`);
    await expect(sv.create({ id: 'bad', process: { args: ['true'], inheritEnv: 'yes' as unknown as boolean } })).rejects.toMatchObject({
      code: 'invalid-spec',
      message: 'process.inheritEnv must be true or false, not "yes"',
    });
    await expect(sv.exec('plain', { execId: 'bad', args: ['true'], inheritEnv: 1 as unknown as boolean })).rejects.toMatchObject({ code: 'invalid-spec' });
    expect(sv.list().map((c) => c.id)).toEqual(['inherits', 'plain']);
  });

  it('inheritEnv keeps its meaning after a restart and after a lost journal is recovered', async () => {
    const secret = supervisorSecret();
    const stateDir = tempDir();
    const first = await Supervisor.open({ stateDir });
    await first.create({ id: 'inherits', process: { args: ['sleep', '30'], inheritEnv: true } });
    await first.create({ id: 'plain', process: { args: ['sleep', '30'] } });
    for (const id of ['inherits', 'plain']) await first.start(id);
    await first.close({ leaveRunning: true });
    const execsSee = async (sv: Supervisor, execId: string) =>
      Promise.all(
        ['inherits', 'plain'].map(async (id) => {
          await sv.exec(id, { execId, args: ['env'] });
          return (await printedEnv(sv, id, execId)).includes(`${SECRET_NAME}=${secret}`);
        }),
      );
    const restarted = await Supervisor.open({ stateDir });
    expect(await execsSee(restarted, 'after-restart')).toEqual([true, false]);
    await restarted.close({ leaveRunning: true });
    for (const file of ['journal.db', 'journal.db-wal', 'journal.db-shm']) rmSync(join(stateDir, file), { force: true });
    const recovered = await openSupervisor({ stateDir, recover: true });
    expect(await execsSee(recovered, 'after-recovery')).toEqual([true, false]);
  });
});

describe.skipIf(!canRunContainers() && !process.env.CI)('the runc runtime: an exec gets the bundle\'s env and its own', () => {
  it("nothing of the supervisor's, and inheritEnv: true is refused", async () => {
    const secret = supervisorSecret();
    const sv = await openSupervisor({ runtime: 'runc' });
    await sv.create({ id: 'c', bundle: busyboxBundle(tempDir('berth-bundle-'), 'c', { args: ['sleep', '30'] }) });
    await sv.start('c');
    await sv.exec('c', { execId: 'e', args: ['env'], env: { EXTRA: '1' } });
    const printed = await printedEnv(sv, 'c', 'e');
    expect(printed).toContain('EXTRA=1');
    expect(printed.join('\n')).not.toContain(secret);
    await expect(sv.exec('c', { execId: 'asks', args: ['env'], inheritEnv: true })).rejects.toMatchObject({
      code: 'invalid-spec',
      message: expect.stringContaining("inheritEnv is the process runtime's"),
    });
    expect(sv.get('c').processes.map((p) => p.id)).toEqual(['init', 'e']);
  });
});
