/**
 * Restart policies on real processes and real runc containers: each restart is
 * a new generation of init, journaled as exit → restart → start-container, with
 * a backoff that doubles; a user's stop, a delete and close() end or cancel it;
 * and it carries on across a supervisor killed with SIGKILL.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Supervisor, type BerthEvent, type CreateOptions, type RestartOptions } from '../src/index.js';
import { checkJournal } from './ordering.js';
import { brief, openSupervisor, storedEvents, tempDir } from './helpers.js';
import { runThenCrash } from './support/crash.js';
import { busyboxBundle, canRunContainers } from './support/busybox-bundle.js';

type RuntimeName = 'process' | 'runc';

const RUNTIMES: { name: RuntimeName; available: boolean }[] = [
  { name: 'process', available: true },
  { name: 'runc', available: canRunContainers() || Boolean(process.env.CI) },
];

/** `create`'s options for a container whose init runs `sh -c <cmd>` on this runtime. */
function containerOf(runtime: RuntimeName, id: string, cmd: string, restart: RestartOptions): CreateOptions {
  const args = ['sh', '-c', cmd];
  return runtime === 'runc' ? { id, bundle: busyboxBundle(tempDir('berth-bundle-'), id, { args }), restart } : { id, process: { args }, restart };
}

/** Resolves once `done` holds for the container, polling; fails after `ms`. */
async function until(sv: Supervisor, what: string, done: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not ${what} within ${ms} ms: ${JSON.stringify(sv.list())}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const settledAfter = (sv: Supervisor, id: string, restarts: number) => () => {
  const info = sv.get(id);
  // get() shows the exit as soon as it is known; its row is committed a moment later. The only container here: seq counts its rows.
  return info.status === 'exited' && info.restartCount === restarts && sv.lastSeq >= crashLoop(restarts).length;
};

/** The journal of one container a failing init (exit 1) restarted `restarts` times leaves. */
const crashLoop = (restarts: number): string[] => [
  'create',
  'start-container:init',
  'exit:init=1',
  ...Array.from({ length: restarts }, () => ['restart:init', 'start-container:init', 'exit:init=1']).flat(),
];

const restartRows = (events: BerthEvent[]) => events.filter((e) => e.type === 'restart');

for (const runtime of RUNTIMES) {
  describe.skipIf(!runtime.available)(`restart policies (${runtime.name} runtime)`, () => {
    const open = () => openSupervisor({ runtime: runtime.name });

    it('on-failure with maxRetries 3: init exiting 1 is started 4 times, each exit journaled before its restart and the next start', async () => {
      const sv = await open();
      await sv.create(containerOf(runtime.name, 'loop', 'echo run; exit 1', { policy: 'on-failure', maxRetries: 3, backoffMs: { initial: 50, max: 1_000 } }));
      await sv.start('loop');
      await until(sv, 'done restarting', settledAfter(sv, 'loop', 3));
      const events = await storedEvents(sv);
      expect(brief(events)).toEqual(crashLoop(3));
      checkJournal(events);
      // The backoff doubles: read from the restart rows.
      expect(restartRows(events).map((e) => [e.attempt, e.delayMs, e.from, e.to])).toEqual([
        [1, 50, 'exited', 'restarting'],
        [2, 100, 'exited', 'restarting'],
        [3, 200, 'exited', 'restarting'],
      ]);
      expect(events.filter((e) => e.type === 'start-container').map((e) => e.from)).toEqual(['created', 'restarting', 'restarting', 'restarting']);
      // One log for init, appended to by every generation.
      expect((await sv.logs('loop')).match(/run/g)).toHaveLength(4);
      expect(await sv.wait('loop')).toMatchObject({ status: 1 });
    });

    it('the backoff stops doubling at max', async () => {
      const sv = await open();
      await sv.create(containerOf(runtime.name, 'cap', 'exit 2', { policy: 'on-failure', maxRetries: 4, backoffMs: { initial: 40, max: 100 } }));
      await sv.start('cap');
      await until(sv, 'done restarting', () => sv.get('cap').status === 'exited' && sv.get('cap').restartCount === 4);
      expect(restartRows(await storedEvents(sv)).map((e) => e.delayMs)).toEqual([40, 80, 100, 100]);
    });

    it('always restarts after exit 0; on-failure does not', async () => {
      const sv = await open();
      await sv.create(containerOf(runtime.name, 'ok', 'exit 0', { policy: 'always', maxRetries: 2, backoffMs: { initial: 20 } }));
      await sv.create(containerOf(runtime.name, 'once', 'exit 0', { policy: 'on-failure' }));
      await sv.start('ok');
      await sv.start('once');
      await until(sv, 'done restarting', () => sv.get('ok').status === 'exited' && sv.get('ok').restartCount === 2);
      expect(brief(await storedEvents(sv, { id: 'ok' }))).toEqual([
        'create',
        'start-container:init',
        'exit:init=0',
        'restart:init',
        'start-container:init',
        'exit:init=0',
        'restart:init',
        'start-container:init',
        'exit:init=0',
      ]);
      await sv.wait('once');
      expect(sv.get('once')).toMatchObject({ status: 'exited', restartCount: 0 });
      expect(brief(await storedEvents(sv, { id: 'once' }))).toEqual(['create', 'start-container:init', 'exit:init=0']);
    });

    it("a user's signal to init ends the policy, journaled with the exit it caused", async () => {
      const sv = await open();
      await sv.create(containerOf(runtime.name, 'svc', 'sleep 30', { policy: 'always', backoffMs: { initial: 20 } }));
      await sv.start('svc');
      await sv.signal('svc', 'init', 'SIGKILL'); // a container's init ignores what it does not handle, SIGTERM included
      expect(await sv.wait('svc')).toMatchObject({ status: 137 });
      await new Promise((resolve) => setTimeout(resolve, 300)); // more than the backoff: no restart comes
      expect(sv.get('svc')).toMatchObject({ status: 'exited', restartCount: 0 });
      const events = await storedEvents(sv, { id: 'svc' });
      expect(brief(events)).toEqual(['create', 'start-container:init', 'exit:init=137', 'restart:init']);
      expect(events[3]).toMatchObject({ to: 'exited', reason: 'stopped by the user' });
    });

    it('delete during the backoff cancels the restart', async () => {
      const sv = await open();
      await sv.create(containerOf(runtime.name, 'gone', 'exit 1', { policy: 'always', backoffMs: { initial: 2_000 } }));
      await sv.start('gone');
      await until(sv, 'restarting', () => sv.get('gone').status === 'restarting');
      await until(sv, 'restart journaled', () => sv.lastSeq >= 4);
      expect(sv.list().map((c) => c.status)).toEqual(['restarting']);
      await sv.delete('gone');
      await new Promise((resolve) => setTimeout(resolve, 2_500)); // past the backoff
      expect(sv.list()).toEqual([]);
      expect(brief(await storedEvents(sv))).toEqual(['create', 'start-container:init', 'exit:init=1', 'restart:init', 'delete']);
    });

    it('a restart the runtime cannot carry out ends the policy, and wait() resolves with the last exit', async () => {
      const sv = await open();
      await sv.create(containerOf(runtime.name, 'broken', 'exit 1', { policy: 'always', backoffMs: { initial: 500 } }));
      await sv.start('broken');
      await until(sv, 'restart journaled', () => sv.lastSeq >= 4);
      const waited = sv.wait('broken');
      rmSync(join(sv.stateDir, 'containers', 'broken'), { recursive: true, force: true }); // nothing to start init in
      expect(await waited).toMatchObject({ status: 1 });
      await until(sv, 'exited', () => sv.get('broken').status === 'exited');
      await until(sv, 'the end of the policy journaled', () => sv.lastSeq >= 5);
      const events = await storedEvents(sv, { id: 'broken' });
      expect(brief(events)).toEqual(['create', 'start-container:init', 'exit:init=1', 'restart:init', 'restart:init']);
      expect(events[4]).toMatchObject({ to: 'exited', reason: expect.stringMatching(/^restart failed: /) });
      checkJournal(events);
    });

    it('close() during the backoff leaves the restart pending: the next open waits out the rest and starts init', async () => {
      const stateDir = tempDir();
      const first = await Supervisor.open({ stateDir, runtime: runtime.name, logger: pino({ level: 'silent' }) });
      await first.create(containerOf(runtime.name, 'later', 'echo gen; exit 1', { policy: 'on-failure', maxRetries: 1, backoffMs: { initial: 1_000 } }));
      await first.start('later');
      await until(first, 'restart journaled', () => first.lastSeq >= 4);
      await first.close();
      const sv = await openSupervisor({ runtime: runtime.name, stateDir });
      expect(sv.get('later').status).toBe('restarting');
      await until(sv, 'done restarting', settledAfter(sv, 'later', 1));
      expect(brief(await storedEvents(sv))).toEqual(crashLoop(1));
      expect((await sv.logs('later')).match(/gen/g)).toHaveLength(2);
    });

    it('a supervisor killed with SIGKILL in the middle: the reopened one carries on, each exit journaled once, before its restart', async () => {
      // Killed at different instants of the loop: while init runs, during a backoff, and as a restart begins.
      for (const killAfterMs of [0, 250, 500, 800]) {
        const stateDir = tempDir();
        const policy = JSON.stringify({ policy: 'on-failure', maxRetries: 3, backoffMs: { initial: 150, max: 1_000 } });
        await runThenCrash(stateDir, ['create:loop:sleep 0.2; exit 1', 'start:loop'], killAfterMs, runtime.name, { BERTH_RESTART: policy });
        const sv = await openSupervisor({ runtime: runtime.name, stateDir });
        await until(sv, 'done restarting', settledAfter(sv, 'loop', 3));
        const events = await storedEvents(sv);
        expect(brief(events), `killed ${killAfterMs} ms in`).toEqual(crashLoop(3));
        checkJournal(events);
        expect(restartRows(events).map((e) => e.attempt)).toEqual([1, 2, 3]);
      }
    }, 120_000);

    it('an init that died while no supervisor ran is restarted on open, after its exit is journaled', async () => {
      const stateDir = tempDir();
      const policy = JSON.stringify({ policy: 'on-failure', maxRetries: 1, backoffMs: { initial: 50 } });
      await runThenCrash(stateDir, ['create:dead:exit 3', 'start:dead'], 0, runtime.name, { BERTH_RESTART: policy });
      await new Promise((resolve) => setTimeout(resolve, 500)); // init exits meanwhile
      const sv = await openSupervisor({ runtime: runtime.name, stateDir });
      await until(sv, 'done restarting', () => sv.get('dead').status === 'exited' && sv.get('dead').restartCount === 1);
      const events = await storedEvents(sv);
      checkJournal(events);
      expect(brief(events)).toEqual(['create', 'start-container:init', 'exit:init=3', 'restart:init', 'start-container:init', 'exit:init=3']);
    });
  });
}

describe('restart options', () => {
  it('are checked at create, and nothing is created for bad ones', async () => {
    const sv = await openSupervisor();
    const bad: unknown[] = [
      null,
      'always',
      {},
      { policy: 'sometimes' },
      { policy: 'always', maxRetries: 0 },
      { policy: 'always', maxRetries: 1.5 },
      { policy: 'on-failure', maxRetries: '3' },
      { policy: 'always', backoffMs: { initial: 0 } },
      { policy: 'always', backoffMs: { initial: 500, max: 100 } },
      { policy: 'always', backoffMs: { max: 2 ** 31 } },
      { policy: 'always', backoffMs: [] },
      { policy: 'no', maxRetries: 3 },
    ];
    for (const restart of bad) {
      const err = await sv.create({ id: 'c', process: { args: ['true'] }, restart: restart as RestartOptions }).catch((e: unknown) => e);
      expect(err, JSON.stringify(restart)).toMatchObject({ code: 'invalid-spec' });
    }
    expect(sv.list()).toEqual([]);
    await sv.create({ id: 'never', process: { args: ['true'] }, restart: { policy: 'no' } });
    expect(sv.get('never').restartCount).toBeUndefined();
  });
});
