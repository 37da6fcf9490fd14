import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envOf } from '../../src/cli/commands/env-flags.js';
import { DEFAULT_PATH } from '../../src/io/process/process-env.js';
import { envSecret, tempDir } from '../helpers.js';
import { berth, startDaemon, stopDaemon } from './berth-cli.js';

const SECRET_NAME = 'BERTH_TEST_CLI_SECRET';

/** A secret in the environment `berth` (and a daemon it starts) runs with. */
const callerSecret = () => envSecret(SECRET_NAME);

const lines = (text: string) => text.trim().split('\n').sort();

describe('the berth CLI: a process gets the environment it is given', () => {
  it('run, create and exec: nothing of the caller by default; --inherit-env, --env-file and --env as asked', async () => {
    const secret = callerSecret();
    const dir = tempDir();
    const files = tempDir('berth-env-files-');
    const first = join(files, 'first.env');
    const second = join(files, 'second.env');
    writeFileSync(first, '# settings\nA=1\nB="two words"\n\nC=from-first\n');
    writeFileSync(second, 'C=from-second\nD=4\n');

    expect(await berth(dir, 'run', '--rm', 'bare', '--', 'env')).toMatchObject({ code: 0, stdout: `PATH=${DEFAULT_PATH}\n` });
    const inherited = await berth(dir, 'run', '--rm', '--inherit-env', 'inherits', '--', 'env');
    expect(lines(inherited.stdout)).toContain(`${SECRET_NAME}=${secret}`);
    const files2 = await berth(dir, 'run', '--rm', '--env-file', first, '--env-file', second, '--env', 'D=from-flag', 'filed', '--', 'env');
    expect(lines(files2.stdout)).toEqual(['A=1', 'B=two words', 'C=from-second', 'D=from-flag', `PATH=${DEFAULT_PATH}`]);

    expect((await berth(dir, 'create', '--env-file', first, 'c', '--', 'sleep', '30')).code).toBe(0);
    expect((await berth(dir, 'start', 'c')).code).toBe(0);
    const exec = await berth(dir, 'exec', '--exec-id', 'e', '--env-file', second, 'c', '--', 'env');
    expect(lines(exec.stdout)).toEqual(['A=1', 'B=two words', 'C=from-second', 'D=4', `PATH=${DEFAULT_PATH}`]);
    const execInherits = await berth(dir, 'exec', '--exec-id', 'e2', '--inherit-env', 'c', '--', 'env');
    expect(lines(execInherits.stdout)).toContain(`${SECRET_NAME}=${secret}`);
    expect((await berth(dir, 'delete', '--force', 'c')).code).toBe(0);
  }, 120_000);

  it('an --env-file that cannot be read is a clear error, and nothing is created', async () => {
    const dir = tempDir();
    const missing = join(tempDir('berth-env-files-'), 'missing.env');
    // berth's own check; node itself (up to 26 at least, nodejs/node#54232) also checks an --env-file argument
    // anywhere on its command line and exits 9 with `node: <path>: not found` before berth runs.
    expect(() => envOf({ envFile: [missing] })).toThrow(
      expect.objectContaining({ code: 'invalid-spec', message: expect.stringMatching(new RegExp(`^--env-file ${missing} cannot be read: ENOENT`)) }),
    );
    const run = await berth(dir, 'run', '--env-file', missing, 'c', '--', 'env');
    expect(run.code).not.toBe(0);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringContaining(missing)]);
    expect(JSON.parse((await berth(dir, '--json', 'ps')).stdout)).toEqual([]);
  });

  it("through a daemon: a job gets nothing of the daemon's environment, and no reply carries an env value", async () => {
    const secret = callerSecret(); // in the daemon's environment too: it is started from here
    const given = `g-${randomBytes(8).toString('hex')}`;
    const dir = tempDir();
    const daemon = await startDaemon(dir);
    try {
      const run = await berth(dir, 'run', '--env', `GIVEN=${given}`, 'job', '--', 'env');
      expect(lines(run.stdout)).toEqual([`GIVEN=${given}`, `PATH=${DEFAULT_PATH}`]);
      const inherited = await berth(dir, 'run', '--rm', '--inherit-env', 'inherits', '--', 'env');
      expect(lines(inherited.stdout)).toContain(`${SECRET_NAME}=${secret}`);
      for (const command of [['inspect', 'job'], ['--json', 'ps'], ['--json', 'events']]) {
        const { code, stdout } = await berth(dir, ...command);
        expect(code).toBe(0);
        expect(stdout).not.toContain(given);
        expect(stdout).not.toContain(secret);
      }
    } finally {
      await stopDaemon(daemon);
    }
  }, 120_000);
});
