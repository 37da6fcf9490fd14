import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Supervisor } from '../../src/index.js';
import { brief, storedEvents } from '../helpers.js';

const isRoot = process.getuid?.() === 0;

/** Writes a file until the filesystem refuses another byte. */
function fill(path: string): void {
  const fd = openSync(path, 'w');
  try {
    for (const size of [65_536, 4_096, 1]) {
      const chunk = Buffer.alloc(size, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
}

describe.skipIf(!isRoot)('a full disk under the journal', () => {
  let mountPoint: string;
  beforeAll(() => {
    // Not tempDir(): that one is removed after each test, and a mounted dir cannot be.
    mountPoint = mkdtempSync(join(tmpdir(), 'berth-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', mountPoint]);
  });
  afterAll(() => {
    execFileSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true });
  });

  it('keeps the supervisor alive, refuses new calls with disk-full, and journals the exits in order once space returns', async () => {
    const stateDir = join(mountPoint, 'state');
    const failures: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => void failures.push(line) });
    const sv = await Supervisor.open({ stateDir, logger, retainCount: 3 });
    try {
      await sv.create({ id: 'victim', process: { args: ['sleep', '600'] } });
      const { pid } = await sv.start('victim');
      await sv.exec('victim', { execId: 'side', args: ['sleep', '600'] });
      const before = sv.lastSeq;

      const ballast = join(mountPoint, 'ballast');
      fill(ballast);
      process.kill(-pid, 'SIGKILL'); // init and the exec with it: two exits while nothing can be written
      await expect.poll(() => failures.join(''), { timeout: 20_000 }).toMatch(/journal commits fail/);
      expect(sv.lastSeq).toBe(before);
      await expect(sv.create({ id: 'later', process: { args: ['true'] } })).rejects.toMatchObject({
        code: 'disk-full',
        message: expect.stringContaining(join(stateDir, 'journal.db')),
      });

      rmSync(ballast);
      const exit = await sv.wait('victim');
      expect(exit).toMatchObject({ status: 137, signal: 'SIGKILL' });
      const rows = await storedEvents(sv, { after: before });
      expect(brief(rows)).toEqual(['exit:side=137', 'exit:init=137']);
      expect(rows.map((e) => e.seq)).toEqual([before + 1, before + 2]);
      // Writes work again.
      await sv.create({ id: 'later', process: { args: ['true'] } });
    } finally {
      await sv.close();
    }
  });
});
