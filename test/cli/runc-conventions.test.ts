import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { busyboxBundle, canRunContainers } from '../support/busybox-bundle.js';
import { berth } from './berth-cli.js';

const lines = (text: string) => text.trim().split('\n');

describe.skipIf(!canRunContainers() && !process.env.CI)('the berth CLI on the runc runtime: conventions', () => {
  it('the state dir remembers runc: no --runtime after the first command; top and stats on a real container', { timeout: 240_000 }, async () => {
    const dir = tempDir();
    const bundle = busyboxBundle(tempDir('berth-bundle-'), 'top', { args: ['sh', '-c', 'sleep 300 & wait'] });
    expect((await berth(dir, '--runtime', 'runc', 'run', '-d', '--bundle', bundle, 'c')).code).toBe(0);
    expect(readFileSync(join(dir, 'runtime'), 'utf8')).toBe('runc\n');
    expect((await berth(dir, 'ps')).stdout).toMatch(/\nc\s+running\s+\d+\s+sh -c sleep 300 & wait\s/);
    const rows = JSON.parse((await berth(dir, '--json', 'top', 'c')).stdout) as { pid: number; command: string }[];
    expect(rows.map((r) => r.command).sort()).toEqual(['sh -c sleep 300 & wait', 'sleep 300']);
    const [stats] = JSON.parse((await berth(dir, '--json', 'stats', 'c')).stdout) as { pids: { current: number } }[];
    expect(stats!.pids.current).toBe(2);
    const conflict = await berth(dir, '--runtime', 'process', 'ps');
    expect(conflict).toMatchObject({ code: 1, stderr: expect.stringContaining('uses the runc runtime, not process') });
    expect((await berth(dir, 'delete', '--force', 'c')).code).toBe(0);
  });

  it("--bundle with a command, --env and --cwd changes berth's copy of config.json, not the bundle", { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const bundle = busyboxBundle(tempDir('berth-bundle-'), 'changed', { args: ['sh', '-c', 'echo from the config'] });
    const before = readFileSync(join(bundle, 'config.json'), 'utf8');
    const run = await berth(dir, '--runtime', 'runc', 'run', '--rm', '--bundle', bundle, '--env', 'GREETING=hello', '--env', 'PATH=/bin', '--cwd', '/tmp', 'o', '--', 'sh', '-c', 'echo $GREETING; pwd; echo $PATH; exit 5');
    expect(run).toMatchObject({ code: 5, stdout: 'hello\n/tmp\n/bin\n' });
    expect(readFileSync(join(bundle, 'config.json'), 'utf8')).toBe(before);
    expect((await berth(dir, 'run', '--rm', '--bundle', bundle, 'plain')).stdout).toBe('from the config\n');
    const relative = await berth(dir, 'run', '--rm', '--bundle', bundle, '--cwd', 'tmp', 'r', '--', 'true');
    expect(relative).toMatchObject({ code: 1, stderr: expect.stringContaining('must be absolute') });
  });

  it('a bundle whose process asks for a terminal (as `runc spec` writes it) is refused with the fix, and nothing is left', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const bundle = busyboxBundle(tempDir('berth-bundle-'), 'tty', { args: ['true'] });
    const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    config.process.terminal = true;
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
    const run = await berth(dir, '--runtime', 'runc', 'run', '--bundle', bundle, 'tty');
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toEqual([expect.stringContaining('set "terminal": false')]);
    expect((await berth(dir, 'ps', '-q')).stdout).toBe('');
  });

  it('logs --timestamps and --since use the times conmon wrote; --tail the last lines', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const bundle = busyboxBundle(tempDir('berth-bundle-'), 'talk', { args: ['sh', '-c', 'echo one; echo two; sleep 2; echo three'] });
    expect((await berth(dir, '--runtime', 'runc', 'run', '--bundle', bundle, 'talk')).stdout).toBe('one\ntwo\nthree\n');
    const stamped = lines((await berth(dir, 'logs', '--timestamps', 'talk')).stdout);
    expect(stamped).toEqual([expect.stringMatching(/^\S+ one$/), expect.stringMatching(/^\S+ two$/), expect.stringMatching(/^\S+ three$/)]);
    const times = stamped.map((l) => new Date(l.split(' ')[0]!).getTime());
    expect(times.every((t) => Number.isFinite(t))).toBe(true);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(1_000);
    const since = new Date(times[1]! + 500).toISOString();
    expect((await berth(dir, 'logs', '--since', since, 'talk')).stdout).toBe('three\n');
    expect((await berth(dir, 'logs', '--tail', '2', 'talk')).stdout).toBe('two\nthree\n');
    expect((await berth(dir, 'logs', '--since', 'yesterday-ish', 'talk')).code).toBe(2);
    expect((await berth(dir, 'delete', 'talk')).code).toBe(0);
  });
});
