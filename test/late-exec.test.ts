import { cpSync, lstatSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { currentAttempt } from '../src/io/runc/monitor-records.js';
import type { CreateOptions } from '../src/index.js';
import { brief, openSupervisor, storedEvents, tempDir } from './helpers.js';
import { checkOrdering } from './ordering.js';
import { busyboxBundle, canRunContainers } from './support/busybox-bundle.js';

/**
 * What an exec launched by a dead supervisor leaves when it runs after its
 * init's exit was journaled: its monitor's records, under an exec id the
 * journal never saw. Made here by copying a real exec's records under a new id.
 */
const leaveLateExec = {
  process(containerDir: string, from: string, to: string): void {
    cpSync(join(containerDir, `${from}.record`), join(containerDir, `${to}.record`));
  },
  runc(containerDir: string, from: string, to: string): void {
    const attempt = currentAttempt(containerDir, from)!;
    const token = attempt.dir.slice(attempt.dir.lastIndexOf('.') + 1);
    // Its records only: the fifo and socket there are its conmon's, not something a copy could carry.
    const record = (path: string) => !lstatSync(path).isFIFO() && !lstatSync(path).isSocket();
    cpSync(attempt.dir, join(containerDir, `${to}.${token}`), { recursive: true, filter: record });
    writeFileSync(join(containerDir, `${to}.attempt`), `${token}\n`, { mode: 0o600 });
  },
};

const RUNTIMES = [
  { name: 'process' as const, available: true },
  { name: 'runc' as const, available: canRunContainers() || Boolean(process.env.CI) },
];

for (const runtime of RUNTIMES) {
  describe.skipIf(!runtime.available)(`an exec found on disk after its init's exit was journaled (${runtime.name} runtime)`, () => {
    it('is ended, never journaled: no start-process after init exit', async () => {
      const stateDir = tempDir();
      const spec = (args: string[]): Pick<CreateOptions, 'process' | 'bundle'> =>
        runtime.name === 'runc' ? { bundle: busyboxBundle(tempDir('berth-bundle-'), 'c', { args }) } : { process: { args } };
      const first = await openSupervisor({ stateDir, runtime: runtime.name });
      await first.create({ id: 'c', ...spec(['sleep', '30']) });
      await first.start('c');
      await first.exec('c', { execId: 'e1', args: ['sh', '-c', 'exit 4'] });
      expect((await first.wait('c', 'e1')).status).toBe(4);
      await first.signal('c', 'init', 'SIGKILL');
      expect((await first.wait('c')).status).toBe(137);
      await first.close();

      const containerDir = join(stateDir, 'containers', 'c');
      leaveLateExec[runtime.name](containerDir, 'e1', 'late');
      const second = await openSupervisor({ stateDir, runtime: runtime.name });
      const events = await storedEvents(second);
      checkOrdering(events);
      expect(brief(events.filter((e) => e.id === 'c'))).toEqual(['create', 'start-container:init', 'start-process:e1', 'exit:e1=4', 'exit:init=137']);
      expect(second.get('c').processes.map((p) => p.id).sort()).toEqual(['e1', 'init']);
    });
  });
}
