import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { isBerthError, Supervisor } from '../src/index.js';
import { pino } from 'pino';
import { checkOrdering } from './ordering.js';
import { propertyBudgetMs, storedEvents, tempDir } from './helpers.js';
import { busyboxBundle, canRunContainers } from './support/busybox-bundle.js';

type Step =
  | { kind: 'exec'; sleepMs: number; code: number }
  | { kind: 'kill-exec'; which: number; signal: 'SIGTERM' | 'SIGKILL' }
  | { kind: 'init-exit' }
  | { kind: 'kill-init'; signal: 'SIGTERM' | 'SIGKILL' }
  /** A pause racing the rest, init's own exit included; resumed after a while, or init could not see its stop file. */
  | { kind: 'pause'; resumeAfterMs: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('exec' as const), sleepMs: fc.integer({ min: 0, max: 40 }), code: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('kill-exec' as const), which: fc.nat(10), signal: fc.constantFrom('SIGTERM' as const, 'SIGKILL' as const) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'init-exit' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('kill-init' as const), signal: fc.constantFrom('SIGTERM' as const, 'SIGKILL' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('pause' as const), resumeAfterMs: fc.integer({ min: 0, max: 20 }) }) },
);

/** Steps fire on their own schedule, without waiting for each other: starts race exits. */
const scenario = fc.array(fc.record({ step, delayMs: fc.integer({ min: 0, max: 15 }) }), { minLength: 1, maxLength: 14 });

const untilFile = (path: string) => ['sh', '-c', `while [ ! -e '${path}' ]; do sleep 0.005; done`];

const RUNTIMES = [
  { name: 'process' as const, runs: 40, available: true },
  { name: 'runc' as const, runs: Number(process.env.BERTH_PROP_RUNS ?? 15), available: canRunContainers() || Boolean(process.env.CI) },
];

for (const runtime of RUNTIMES) describe.skipIf(!runtime.available)(`ordering guarantees under random interleavings (${runtime.name} runtime)`, () => {
  test.prop([scenario], { numRuns: runtime.runs })('exec exits precede init exit, exactly once each, no exec after init', async (steps) => {
    const dir = tempDir('berth-prop-');
    const control = tempDir('berth-control-');
    const sv = await Supervisor.open({ stateDir: dir, runtime: runtime.name, logger: pino({ level: 'silent' }) });
    try {
      const stopFile = join(control, 'init.stop');
      if (runtime.name === 'process') await sv.create({ id: 'c', process: { args: untilFile(stopFile) } });
      else {
        const mounts = [{ source: control, destination: '/control' }];
        await sv.create({ id: 'c', bundle: busyboxBundle(tempDir('berth-bundle-'), 'c', { args: untilFile('/control/init.stop'), mounts }) });
      }
      await sv.start('c');
      // Refusals are expected once init is gone, while paused, or for an exec that never was or already ended.
      const expectRefusal = (err: unknown) =>
        expect(isBerthError(err, 'invalid-state') || isBerthError(err, 'not-found'), String(err)).toBe(true);
      const started: string[] = [];
      let execs = 0;
      const fire = async ({ step: s, delayMs }: { step: Step; delayMs: number }): Promise<void> => {
        await new Promise((done) => setTimeout(done, delayMs));
        try {
          switch (s.kind) {
            case 'exec': {
              const execId = `e${execs++}`;
              await sv.exec('c', { execId, args: ['sh', '-c', `sleep ${s.sleepMs / 1000}; exit ${s.code}`] });
              started.push(execId);
              break;
            }
            case 'kill-exec':
              await sv.signal('c', `e${s.which}`, s.signal);
              break;
            case 'init-exit':
              writeFileSync(stopFile, '');
              break;
            case 'kill-init':
              await sv.signal('c', 'init', s.signal);
              break;
            case 'pause':
              await sv.pause('c').catch(expectRefusal);
              await new Promise((done) => setTimeout(done, s.resumeAfterMs));
              await sv.resume('c');
              break;
          }
        } catch (err) {
          expectRefusal(err);
        }
      };
      // Every scenario ends with init exiting, so the container always reaches its end.
      await Promise.all([...steps.map(fire), fire({ step: { kind: 'init-exit' }, delayMs: 20 })]);
      const initExit = await sv.wait('c');
      expect(initExit.status === 0 || initExit.status === 143 || initExit.status === 137).toBe(true);
      const events = await storedEvents(sv);
      checkOrdering(events);
      const exits = events.filter((e) => e.type === 'exit' && e.processId !== 'init').map((e) => e.processId);
      expect(exits.sort()).toEqual([...started].sort());
      expect(sv.get('c').processes.every((p) => p.status === 'exited')).toBe(true);
    } finally {
      await sv.delete('c', { force: true }).catch(() => undefined); // a runc container's cgroup lives until delete
      await sv.close();
    }
  }, propertyBudgetMs(runtime.runs));
});
