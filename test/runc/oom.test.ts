import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { brief, openSupervisor, storedEvents, tempDir } from '../helpers.js';
import { checkOrdering } from '../ordering.js';
import { busyboxBundle, canRunContainers } from '../support/busybox-bundle.js';

const runc = describe.skipIf(!canRunContainers() && !process.env.CI);
const GROW = 'x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done';

runc('OOM kills (runc runtime)', () => {
  it('an exec killed by the OOM killer gives one oom before its exit, and conmon drops nothing in the supervisor’s cwd', async () => {
    const cwd = tempDir('berth-cwd-');
    const before = process.cwd();
    // conmon drops an `oom` file in its cwd; the supervisor's is where the user ran it.
    process.chdir(cwd);
    try {
      const sv = await openSupervisor({ runtime: 'runc' });
      await sv.create({ id: 'c', bundle: busyboxBundle(tempDir('berth-bundle-'), 'c', { args: ['sleep', '60'], memoryLimit: 8 * 1024 * 1024 }) });
      await sv.start('c');
      await sv.exec('c', { execId: 'e', args: ['sh', '-c', GROW] });
      expect((await sv.wait('c', 'e')).status).toBe(137);
      await sv.signal('c', 'init', 'SIGKILL');
      await sv.wait('c');
      const events = await storedEvents(sv);
      expect(brief(events)).toEqual(['create', 'start-container:init', 'start-process:e', 'oom', 'exit:e=137', 'exit:init=137']);
      checkOrdering(events);
      expect(readdirSync(cwd)).toEqual([]);
    } finally {
      process.chdir(before);
    }
  });
});
