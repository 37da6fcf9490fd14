import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Supervisor, type SupervisorOptions } from '../../src/index.js';
import { openSupervisor, storedEvents, tempDir } from '../helpers.js';
import { canRunContainers } from '../support/busybox-bundle.js';

// Opening with runtime 'runc' needs its binaries; nothing here runs them.
const withRunc = it.skipIf(!canRunContainers() && !process.env.CI);

async function openError(options: SupervisorOptions): Promise<unknown> {
  return Supervisor.open(options).then(
    (sv) => sv.close({ leaveRunning: true }).then(() => new Error('opened')),
    (err: unknown) => err,
  );
}

/** Makes the journal look like one an older berth wrote, before the runtime was recorded. */
function forgetRuntime(stateDir: string): void {
  const db = new Database(join(stateDir, 'journal.db'));
  db.exec("DELETE FROM meta WHERE key = 'runtime'");
  db.close();
}

const refusal = (owner: string, other: string) => ({
  code: 'invalid-spec',
  message: expect.stringMatching(new RegExp(`belongs to the ${owner} runtime and cannot be opened with the ${other} runtime`)),
});

describe('a state dir keeps the runtime it was first opened with', () => {
  withRunc('refuses the other runtime before restore touches anything: the running container is still adopted after', async () => {
    const stateDir = tempDir();
    const first = await openSupervisor({ stateDir });
    await first.create({ id: 'c', process: { args: ['sleep', '60'] } });
    const { pid } = await first.start('c');
    await first.close({ leaveRunning: true });

    expect(await openError({ stateDir, runtime: 'runc' })).toMatchObject(refusal('process', 'runc'));

    const sv = await openSupervisor({ stateDir });
    expect(sv.get('c')).toMatchObject({ status: 'running', pid });
    expect((await storedEvents(sv)).map((e) => e.type)).toEqual(['create', 'start-container']);
  });

  withRunc('a journal from before the record: the runtime its containers show, or with none the first open\'s', async () => {
    const stateDir = tempDir();
    const first = await openSupervisor({ stateDir });
    await first.create({ id: 'c', process: { args: ['true'] } });
    await first.close();
    forgetRuntime(stateDir);
    expect(await openError({ stateDir, runtime: 'runc' })).toMatchObject(refusal('process', 'runc'));

    const empty = tempDir();
    await (await openSupervisor({ stateDir: empty })).close();
    forgetRuntime(empty);
    await (await Supervisor.open({ stateDir: empty, runtime: 'runc' })).close();
    expect(await openError({ stateDir: empty })).toMatchObject(refusal('runc', 'process'));
  });
});
