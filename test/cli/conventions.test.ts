import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { berth, startDaemon, stopDaemon } from './berth-cli.js';

const lines = (text: string) => text.trim().split('\n');

describe('the berth CLI: errors as a ctr or podman user expects them', () => {
  it('a usage error is one line and a hint, exit 2, also with --json; --version', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const start = await berth(dir, 'start');
    expect(start).toMatchObject({ code: 2, stdout: '' });
    expect(lines(start.stderr)).toEqual(["berth: missing required argument 'id'", "Run 'berth start --help' for usage."]);
    const unknown = await berth(dir, 'strat');
    expect(unknown.code).toBe(2);
    expect(lines(unknown.stderr)).toEqual([expect.stringMatching(/^berth: unknown command 'strat'/), "Run 'berth --help' for usage."]);
    const json = await berth(dir, '--json', 'ps', '--filter', 'colour=red');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stderr)).toEqual({ code: 'usage', message: expect.stringContaining('label=KEY') });
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(await berth(dir, '--version')).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('stop -t takes a number of seconds, nothing else: the container is left as it was', async () => {
    const dir = tempDir();
    expect((await berth(dir, 'run', '-d', 'c', '--', 'sleep', '60')).code).toBe(0);
    for (const timeout of ['abc', '-1', '1e3', '']) {
      const stop = await berth(dir, 'stop', '-t', timeout, 'c');
      expect(stop.code).toBe(2);
      expect(lines(stop.stderr)[0]).toContain('must be a number of seconds');
    }
    expect((await berth(dir, 'ps')).stdout).toMatch(/c\s+running/);
    expect((await berth(dir, 'stop', '-t', '0.5', 'c')).code).toBe(0);
  }, 120_000);

  it('an unknown container is not-found, exit 3, for every command (an attached exec too), with --json as {code, message}', async () => {
    const dir = tempDir();
    const commands = [
      ['start', 'nope'], ['kill', 'nope'], ['stop', 'nope'], ['wait', 'nope'], ['pause', 'nope'], ['resume', 'nope'],
      ['update', '--pids-limit', '5', 'nope'], ['inspect', 'nope'], ['top', 'nope'], ['stats', 'nope'], ['logs', 'nope'],
      ['logs', '-f', 'nope'], ['logs', '--tail', '1', 'nope'], ['delete', 'nope'], ['exec', 'nope', '--', 'true'], ['exec', '-d', 'nope', '--', 'true'],
    ];
    for (const command of commands) {
      const run = await berth(dir, ...command);
      expect({ command, code: run.code, stderr: run.stderr }).toEqual({ command, code: 3, stderr: 'berth: container nope not found (not-found)\n' });
    }
    const json = await berth(dir, '--json', 'exec', 'nope', '--', 'true');
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stderr)).toEqual({ code: 'not-found', message: 'container nope not found' });
  }, 300_000); // seventeen commands, each a node start

  it('through a daemon too: an attached exec on an unknown container is not-found', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const daemon = await startDaemon(dir);
    try {
      expect(await berth(dir, 'exec', 'nope', '--', 'true')).toMatchObject({ code: 3, stderr: 'berth: container nope not found (not-found)\n' });
    } finally {
      await stopDaemon(daemon);
    }
  });

  it("delete of a running container names the CLI's --force", { timeout: 120_000 }, async () => {
    const dir = tempDir();
    expect((await berth(dir, 'run', '-d', 'c', '--', 'sleep', '60')).code).toBe(0);
    const refused = await berth(dir, 'delete', 'c');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--force');
    expect(refused.stderr).not.toContain('force: true');
    expect((await berth(dir, 'delete', '--force', 'c')).code).toBe(0);
  });
});

describe('the berth CLI: a state dir remembers its runtime', () => {
  it('written at the first open (0600); a conflicting --runtime is a clear error, daemon or not', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    expect((await berth(dir, 'ps')).code).toBe(0);
    const file = join(dir, 'runtime');
    expect(readFileSync(file, 'utf8')).toBe('process\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const conflict = await berth(dir, '--runtime', 'runc', 'ps');
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toBe(`berth: state dir ${dir} uses the process runtime, not runc: leave out --runtime (the state dir remembers it), or give another --state-dir (invalid-spec)\n`);
    expect((await berth(dir, '--runtime', 'process', 'ps')).code).toBe(0);
    const daemon = await startDaemon(dir);
    try {
      expect((await berth(dir, '--runtime', 'runc', 'ps')).code).toBe(1);
    } finally {
      await stopDaemon(daemon);
    }
  });
});
