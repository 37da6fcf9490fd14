import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { checkOrdering } from './ordering.js';
import { openSupervisor, propertyBudgetMs, storedEvents, tempDir } from './helpers.js';
import { runThenCrash } from './support/crash.js';
import { canRunContainers } from './support/busybox-bundle.js';

interface Workload {
  containers: { initMs: number; started: boolean; execs: { ms: number; code: number; wait: boolean }[] }[];
  crashAfterMs: number;
}

const workload: fc.Arbitrary<Workload> = fc.record({
  containers: fc.array(
    fc.record({
      initMs: fc.integer({ min: 0, max: 300 }),
      started: fc.boolean(),
      execs: fc.array(fc.record({ ms: fc.integer({ min: 0, max: 300 }), code: fc.integer({ min: 0, max: 3 }), wait: fc.boolean() }), {
        maxLength: 3,
      }),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  // Mostly at once, so the kill lands while starts and execs are in flight.
  crashAfterMs: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 200 }) }),
});

function steps(w: Workload): string[] {
  return w.containers.flatMap((c, i) => {
    const id = `c${i}`;
    const out = [`create:${id}:sleep ${c.initMs / 1000}`];
    if (!c.started) return out;
    out.push(c.execs.length > 0 ? `start:${id}` : `start&:${id}`);
    c.execs.forEach((e, j) => out.push(`exec${e.wait ? '' : '&'}:${id}:e${j}:sleep ${e.ms / 1000}; exit ${e.code}`));
    return out;
  });
}

const RUNTIMES = [
  { name: 'process' as const, runs: 20, available: true },
  { name: 'runc' as const, runs: Number(process.env.BERTH_PROP_RUNS ?? 8), available: canRunContainers() || Boolean(process.env.CI) },
];

for (const runtime of RUNTIMES) describe.skipIf(!runtime.available)(`restore under random crash points (${runtime.name} runtime, real SIGKILL)`, () => {
  test.prop([workload], { numRuns: runtime.runs })('every exit exactly once, in the guaranteed order, with real statuses', async (w) => {
    const stateDir = tempDir('berth-crashprop-');
    await runThenCrash(stateDir, steps(w), w.crashAfterMs, runtime.name);
    const sv = await openSupervisor({ stateDir, runtime: runtime.name });
    // Every init ends by itself within 300 ms; wait for each started one.
    for (const container of sv.list()) {
      if (container.status !== 'created') await sv.wait(container.id);
    }
    const events = await storedEvents(sv);
    checkOrdering(events);
    for (const event of events.filter((e) => e.type === 'exit')) {
      // Nobody killed a shim here: every status is real, even for an exec starting at the
      // instant of the crash (an exec may be killed by its init's end: 137).
      expect([0, 1, 2, 3, 137], JSON.stringify(event)).toContain(event.status);
      expect(event.reason).toBeUndefined();
    }
    for (const container of sv.list()) {
      expect(container.processes.every((p) => p.status !== 'running')).toBe(true);
      await sv.delete(container.id, { force: true }); // a created runc container still has a conmon
    }
  }, propertyBudgetMs(runtime.runs));
});
