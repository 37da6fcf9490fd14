import { describe, expect, it } from 'vitest';
import { brief, openSupervisor, storedEvents, tempDir } from '../helpers.js';
import { busyboxBundle, canRunContainers } from '../support/busybox-bundle.js';

const runc = describe.skipIf(!canRunContainers() && !process.env.CI);

runc('stop and run on real runc containers', () => {
  it('stop escalates to SIGKILL for a container whose init ignores SIGTERM', async () => {
    const sv = await openSupervisor({ runtime: 'runc' });
    // A container's init (pid 1) ignores signals it has no handler for: SIGTERM does nothing.
    await sv.create({ id: 'term', bundle: busyboxBundle(tempDir('berth-bundle-'), 'term', { args: ['sleep', '30'] }) });
    await sv.start('term');
    const began = Date.now();
    const exit = await sv.stop('term', { timeoutMs: 500 });
    expect(Date.now() - began).toBeGreaterThanOrEqual(500);
    expect(exit.status).toBe(137);
    expect(brief(await storedEvents(sv, { id: 'term' }))).toEqual(['create', 'start-container:init', 'exit:init=137']);
  });

  it('run with a timeout kills the container, says timeout, and remove leaves nothing', async () => {
    const sv = await openSupervisor({ runtime: 'runc' });
    const bundle = busyboxBundle(tempDir('berth-bundle-'), 'slow', { args: ['sleep', '10'] });
    const { exit } = await sv.run({ id: 'slow', bundle, timeoutMs: 1000, remove: true });
    expect(exit).toMatchObject({ status: 137, reason: 'timeout' });
    expect(sv.list()).toEqual([]);
    expect(brief(await storedEvents(sv))).toEqual(['create', 'start-container:init', 'exit:init=137', 'delete']);
  });
});
