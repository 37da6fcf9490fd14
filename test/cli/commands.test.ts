import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CGROUPS } from '../support/cgroups.js';
import { tempDir } from '../helpers.js';
import { berth, BIN } from './berth-cli.js';

const lines = (text: string) => text.trim().split('\n');
const jsonLines = (text: string) => lines(text).map((l) => JSON.parse(l) as Record<string, unknown>);
const pidOf = async (dir: string, id: string) => (JSON.parse((await berth(dir, '--json', 'inspect', id)).stdout) as { pid: number }).pid;

describe('the berth CLI: the commands a ctr or podman user reaches for', () => {
  it('run --json streams start, output and exit as JSON lines; exec ids are optional and printed', { timeout: 180_000 }, async () => {
    const dir = tempDir();
    const run = await berth(dir, '--json', 'run', 'j', '--', 'sh', '-c', 'echo one; echo two; exit 3');
    expect(run.code).toBe(3);
    const seen = jsonLines(run.stdout);
    expect(seen[0]).toMatchObject({ type: 'start', id: 'j', processId: 'init', pid: expect.any(Number) });
    expect(seen.at(-1)).toMatchObject({ type: 'exit', id: 'j', processId: 'init', status: 3 });
    expect(seen.slice(1, -1).every((l) => l.type === 'output')).toBe(true);
    expect(seen.slice(1, -1).map((l) => l.text).join('')).toBe('one\ntwo\n');

    expect((await berth(dir, 'run', '-d', 'c', '--', 'sleep', '120')).code).toBe(0);
    const attached = await berth(dir, 'exec', 'c', '--', 'sh', '-c', 'echo hi');
    expect(attached).toMatchObject({ code: 0, stdout: 'hi\n' });
    const generated = /^berth: exec id (exec-[0-9a-f]{8})\n$/.exec(attached.stderr)?.[1];
    expect(generated).toBeDefined();
    const detached = await berth(dir, 'exec', '-d', 'c', '--', 'sleep', '120');
    const detachedId = /^(exec-[0-9a-f]{8}) started in c, pid \d+\n$/.exec(detached.stdout)?.[1];
    expect(detachedId).toBeDefined();
    const events = jsonLines((await berth(dir, '--json', 'events', '--id', 'c', '--type', 'start-process')).stdout);
    expect(events.map((e) => e.processId)).toEqual([generated, detachedId]);
    expect((await berth(dir, 'delete', '--force', 'c')).code).toBe(0);
  });

  it('ps -q, --filter label=... and status=..., a COMMAND column; inspect shows the spec, env values redacted; wait; prune', { timeout: 300_000 }, async () => {
    const dir = tempDir();
    expect((await berth(dir, 'run', '-d', '--label', 'team=ci', '--label', 'tier=web', '--env', 'TOKEN=s3cret', 'web', '--', 'sleep', '120')).code).toBe(0);
    expect((await berth(dir, 'run', '--label', 'team=ops', 'batch', '--', 'sh', '-c', 'exit 4')).code).toBe(4);
    expect((await berth(dir, 'create', 'idle', '--', 'true')).code).toBe(0);

    expect(lines((await berth(dir, 'ps', '-q')).stdout).sort()).toEqual(['batch', 'idle', 'web']);
    expect((await berth(dir, 'ps', '-q', '--filter', 'label=team=ci')).stdout).toBe('web\n');
    expect((await berth(dir, 'ps', '-q', '--filter', 'label=team', '--filter', 'status=exited')).stdout).toBe('batch\n');
    expect(JSON.parse((await berth(dir, '--json', 'ps', '-q', '--filter', 'label=tier')).stdout)).toEqual(['web']);
    const table = lines((await berth(dir, 'ps')).stdout);
    expect(table[0]).toMatch(/^ID\s+STATUS\s+PID\s+COMMAND\s+/);
    expect(table.find((l) => l.startsWith('web'))).toMatch(/running\s+\d+\s+sleep 120\s/);
    expect(table.find((l) => l.startsWith('batch'))).toMatch(/sh -c exit 4/);

    const inspected = JSON.parse((await berth(dir, 'inspect', 'web')).stdout);
    expect(inspected).toMatchObject({ id: 'web', status: 'running', labels: { team: 'ci', tier: 'web' }, spec: { args: ['sleep', '120'], env: { TOKEN: '[redacted]' } } });
    expect(JSON.stringify(inspected)).not.toContain('s3cret');

    expect(await berth(dir, 'wait', 'batch')).toMatchObject({ code: 0, stdout: '4\n' });
    expect(await berth(dir, 'prune')).toMatchObject({ code: 0, stdout: 'batch\n' });
    expect(lines((await berth(dir, 'ps', '-q')).stdout).sort()).toEqual(['idle', 'web']);
    expect((await berth(dir, 'delete', '--force', 'web')).code).toBe(0);
  });

  it('top lists the processes of the container, children included; stats and update work on its cgroup', { timeout: 180_000 }, async () => {
    const dir = tempDir();
    expect((await berth(dir, 'run', '-d', 't', '--', 'sh', '-c', 'sleep 111 & sleep 222 & wait')).code).toBe(0);
    const pid = await pidOf(dir, 't');
    const top = lines((await berth(dir, 'top', 't')).stdout);
    expect(top[0]).toMatch(/^UID\s+PID\s+PPID\s+STAT\s+TIME\s+RSS\s+CMD/);
    expect(top.find((l) => l.includes('sh -c sleep 111'))).toMatch(new RegExp(`^0\\s+${pid}\\s`));
    expect(top.filter((l) => /sleep (111|222)$/.test(l.trim()))).toHaveLength(2);
    const rows = JSON.parse((await berth(dir, '--json', 'top', 't')).stdout) as { pid: number; ppid: number; command: string }[];
    expect(rows.filter((r) => r.ppid === pid).map((r) => r.command).sort()).toEqual(['sleep 111', 'sleep 222']);

    if (CGROUPS) {
      expect((await berth(dir, 'update', '--pids-limit', '50', '--memory', '64m', 't')).code).toBe(0);
      const [stats] = JSON.parse((await berth(dir, '--json', 'stats', 't')).stdout) as { id: string; pids: { current: number; limit: number }; memory: { limit: number } }[];
      expect(stats).toMatchObject({ id: 't', pids: { current: 3, limit: 50 }, memory: { limit: 64 * 1024 * 1024 } });
      expect((await berth(dir, 'stats', 't')).stdout).toMatch(/^ID\s+CPU\s+MEM USAGE\s+MEM LIMIT\s+PIDS\s*\nt\s+[\d.]+s\s+[\d.]+MiB\s+64\.0MiB\s+3\/50/);
    }
    const bad = await berth(dir, 'update', '--memory', 'lots', 't');
    expect(bad.code).toBe(2);
    expect((await berth(dir, 'update', 't')).code).toBe(2);
    expect((await berth(dir, 'delete', '--force', 't')).code).toBe(0);
  });

  it('logs --tail gives the last lines; --since and --timestamps are refused on the process runtime, which keeps no times', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    expect((await berth(dir, 'run', 'l', '--', 'sh', '-c', 'for i in 1 2 3 4 5; do echo line $i; done; printf end')).code).toBe(0);
    expect((await berth(dir, 'logs', '--tail', '2', 'l')).stdout).toBe('line 5\nend\n');
    expect(jsonLines((await berth(dir, '--json', 'logs', '-n', '1', 'l')).stdout)).toEqual([{ text: 'end' }]);
    expect((await berth(dir, 'logs', '-f', '--tail', '1', 'l')).stdout).toBe('end\n');
    const refused = await berth(dir, 'logs', '--timestamps', 'l');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('(unsupported)');
  });

  it('completion: bash completes commands, flags and container ids; zsh and fish scripts name every command', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    expect((await berth(dir, 'run', '-d', 'web-1', '--', 'sleep', '60')).code).toBe(0);
    const script = join(tempDir('berth-completion-'), 'berth.bash');
    writeFileSync(script, (await berth(dir, 'completion', 'bash')).stdout);
    const complete = (...words: string[]) =>
      execFileSync('bash', ['-c', `berth() { "${process.execPath}" "${BIN}" "$@"; }; source "${script}"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _berth; echo "\${COMPREPLY[*]}"`, 'bash', ...words], { encoding: 'utf8' }).trim();
    expect(complete('berth', 'st')).toBe('start stop stats');
    expect(complete('berth', '--state-dir', dir, 'stop', '--t')).toBe('--timeout');
    expect(complete('berth', '--state-dir', dir, 'inspect', '')).toBe('web-1');
    expect(complete('berth', '--state-dir', dir, 'run', '')).not.toContain('web-1'); // a new id: its flags, no container
    const commands = ['run', 'exec', 'top', 'stats', 'update', 'prune', 'wait', 'completion'];
    const zsh = (await berth(dir, 'completion', 'zsh')).stdout;
    const fish = (await berth(dir, 'completion', 'fish')).stdout;
    expect(zsh.startsWith('#compdef berth\n')).toBe(true);
    for (const name of commands) {
      expect(zsh).toContain(`'${name}:`);
      expect(fish).toContain(`-n __fish_use_subcommand -a ${name} `);
    }
    expect((await berth(dir, 'completion', 'tcsh')).code).toBe(2);
    expect((await berth(dir, 'delete', '--force', 'web-1')).code).toBe(0);
  });
});
