import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readIfPresent } from '../../src/io/os/os-process.js';
import { tempDir } from '../helpers.js';

const isRoot = process.getuid?.() === 0;
const OS_PROCESS = fileURLToPath(new URL('../../src/io/os/os-process.ts', import.meta.url));

describe('os-process', () => {
  it('readIfPresent is undefined only for a missing file; any other failure is reported', () => {
    const dir = tempDir();
    expect(readIfPresent(join(dir, 'missing'))).toBeUndefined();
    expect(() => readIfPresent(dir)).toThrow(expect.objectContaining({ code: 'runtime-error' }));
  });

  it('a group we may not signal (EPERM) is reported as not signalled, not thrown', async (context) => {
    if (!isRoot) return context.skip();
    const group = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    try {
      await new Promise((done) => group.once('spawn', done));
      // Another uid may not signal root's processes.
      const script = `import(${JSON.stringify(OS_PROCESS)}).then((m) => console.log(m.killGroup(${group.pid}, 'SIGTERM')))`;
      const run = spawnSync(process.execPath, ['--import', 'tsx', '--no-warnings', '-e', script], { uid: 65534, gid: 65534, encoding: 'utf8' });
      expect(run.stderr).toBe('');
      expect(run.stdout.trim()).toBe('false');
    } finally {
      group.kill('SIGKILL');
    }
  });
});
