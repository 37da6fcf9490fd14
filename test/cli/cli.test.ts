import { spawn } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Supervisor } from '../../src/index.js';
import { onCleanup, tempDir } from '../helpers.js';
import { busyboxBundle, canRunContainers } from '../support/busybox-bundle.js';
import { berth, BIN, startDaemon, stopDaemon } from './berth-cli.js';

describe('the berth CLI (daemonless)', () => {
  it('run waits and exits with the container status; --json output parses; errors are one line', async () => {
    const dir = tempDir();
    const run = await berth(dir, 'run', 'hello', '--', 'sh', '-c', 'echo hello; exit 3');
    expect(run).toMatchObject({ code: 3, stdout: 'hello\n' });
    const ps = JSON.parse((await berth(dir, '--json', 'ps')).stdout) as { id: string; status: string }[];
    expect(ps).toMatchObject([{ id: 'hello', status: 'exited' }]);
    const info = JSON.parse((await berth(dir, 'inspect', 'hello')).stdout);
    expect(info.processes[0]).toMatchObject({ id: 'init', exitStatus: 3 });
    const events = (await berth(dir, '--json', 'events')).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => e.type)).toEqual(['create', 'start-container', 'exit']);
    const missing = await berth(dir, 'start', 'nope');
    expect(missing.code).toBe(3);
    expect(missing.stderr).toBe('berth: container nope not found (not-found)\n');
    const bad = await berth(dir, 'kill', 'hello', '--signal', 'SIGNOPE');
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect((await berth(dir, 'delete', 'hello')).code).toBe(0);
    expect(JSON.parse((await berth(dir, '--json', 'ps')).stdout)).toEqual([]);
  });

  it('create, start, exec, pause, resume, stop, logs, delete --force, run --rm', async () => {
    const dir = tempDir();
    expect((await berth(dir, 'create', '--label', 'team=ci', 'web', '--', 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.05; done')).code).toBe(0);
    expect((await berth(dir, 'start', 'web')).stdout).toMatch(/^web started, pid \d+/);
    const exec = await berth(dir, 'exec', '--exec-id', 'greet', 'web', '--', 'sh', '-c', 'echo hi; exit 5');
    expect(exec).toMatchObject({ code: 5, stdout: 'hi\n' });
    expect((await berth(dir, 'exec', '-d', '--exec-id', 'bg', 'web', '--', 'sleep', '30')).code).toBe(0);
    expect((await berth(dir, 'pause', 'web')).code).toBe(0);
    expect((await berth(dir, 'ps')).stdout).toMatch(/web\s+paused/);
    expect((await berth(dir, 'resume', 'web')).code).toBe(0);
    const stop = await berth(dir, 'stop', '--timeout', '5', 'web');
    expect(stop.stdout.trim()).toBe('web exited with status 0');
    expect((await berth(dir, 'logs', 'web', '--process', 'greet')).stdout).toBe('hi\n');
    expect(await berth(dir, 'logs', '-f', 'web', '--process', 'nope')).toMatchObject({ code: 3, stdout: '' });
    const events = (await berth(dir, 'events', '--id', 'web', '--type', 'exit')).stdout;
    expect(events.indexOf(' bg ')).toBeLessThan(events.indexOf(' init '));
    expect((await berth(dir, 'delete', 'web')).code).toBe(0);
    expect((await berth(dir, 'run', '-d', 'live', '--', 'sleep', '30')).code).toBe(0);
    expect((await berth(dir, 'delete', 'live')).code).toBe(1);
    expect((await berth(dir, 'delete', '--force', 'live')).code).toBe(0);
    expect((await berth(dir, 'run', '--rm', 'once', '--', 'true')).code).toBe(0);
    expect(JSON.parse((await berth(dir, '--json', 'ps')).stdout)).toEqual([]);
  }, 120_000); // seventeen commands, each a node start: slow on a busy machine

  it('logs --follow prints output as it is written and returns once the process has exited', async () => {
    const dir = tempDir();
    const go = join(tempDir('berth-control-'), 'go');
    const script = `echo one; while [ ! -e '${go}' ]; do sleep 0.01; done; echo two`;
    expect((await berth(dir, 'run', '-d', 'talker', '--', 'sh', '-c', script)).code).toBe(0);
    const follower = spawn(process.execPath, [BIN, '--state-dir', dir, 'logs', '-f', 'talker'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((done) => follower.once('exit', (code) => done(code)));
    let out = '';
    follower.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await expect.poll(() => out, { timeout: 10_000 }).toBe('one\n');
    writeFileSync(go, '');
    expect(await exited).toBe(0);
    expect(out).toBe('one\ntwo\n');
  });

  it('events --follow holds the state dir and serves it to other commands until interrupted', async () => {
    const dir = tempDir();
    const follower = spawn(process.execPath, [BIN, '--state-dir', dir, '--json', 'events', '--follow'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((done) => follower.once('exit', (code) => done(code)));
    let out = '';
    follower.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const socket = join(dir, 'berth.sock');
    try {
      await expect.poll(() => existsSync(socket), { timeout: 10_000 }).toBe(true);
      expect(statSync(socket).mode & 0o777).toBe(0o600);
      expect((await berth(dir, 'run', 'c', '--', 'sh', '-c', 'exit 2')).code).toBe(2);
      await expect.poll(() => out.split('\n').filter(Boolean).length, { timeout: 10_000 }).toBe(3);
      const seen = out.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; type: string; status?: number });
      expect(seen.map((e) => [e.seq, e.type, e.status])).toEqual([[1, 'create', undefined], [2, 'start-container', undefined], [3, 'exit', 2]]);
    } finally {
      follower.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(existsSync(socket)).toBe(false);
    expect(JSON.parse((await berth(dir, '--json', 'ps')).stdout)).toMatchObject([{ id: 'c', status: 'exited' }]);
  });

  it('says so when a supervisor that is not a daemon holds the state dir', async () => {
    const dir = tempDir();
    const sv = await Supervisor.open({ stateDir: dir });
    try {
      const run = await berth(dir, 'ps');
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`pid ${process.pid}: [^\\n]*\\), which is not a berth daemon`));
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      await sv.close();
    }
  });

  it('refuses a container or exec id that leads out of the state dir before following any log', async () => {
    const dir = tempDir();
    const elsewhere = tempDir();
    writeFileSync(join(elsewhere, 'secret.log'), 'not berth\'s to show\n');
    const byExecId = ['exec', '--exec-id', relative(join(dir, 'containers', 'c1'), join(elsewhere, 'secret')), 'c1', '--', 'true'];
    const byContainerId = ['exec', '--exec-id', 'secret', relative(join(dir, 'containers'), elsewhere), '--', 'true'];
    for (const args of [byExecId, byContainerId]) {
      const run = await berth(dir, ...args);
      expect(run.stdout).not.toContain('not berth');
      expect(run).toMatchObject({ code: 1, stderr: expect.stringMatching(/id .* may only contain .* \(invalid-id\)/) });
    }
  });
});

describe('the berth CLI with berth daemon', () => {
  it('serves commands over a socket only its owner may use', async () => {
    const dir = tempDir();
    const daemon = await startDaemon(dir);
    try {
      expect(statSync(join(dir, 'berth.sock')).mode & 0o777).toBe(0o600);
      expect((await berth(dir, 'run', '-d', 'c1', '--', 'sleep', '30')).code).toBe(0);
      expect((await berth(dir, 'ps')).stdout).toMatch(/c1\s+running/);
      // The daemon holds the lock: a library open is refused, naming it and its command line.
      await expect(Supervisor.open({ stateDir: dir })).rejects.toMatchObject({ code: 'locked', message: expect.stringMatching(new RegExp(`pid ${daemon.pid}: .*main\\.js .*daemon`)) });
      expect((await berth(dir, 'run', 'c2', '--', 'sh', '-c', 'exit 4')).code).toBe(4);
      expect((await berth(dir, 'start', 'nope')).code).toBe(3);
    } finally {
      await stopDaemon(daemon);
    }
    // Containers outlive the daemon; the next command re-adopts them.
    expect((await berth(dir, 'ps')).stdout).toMatch(/c1\s+running/);
    await berth(dir, 'delete', '--force', 'c1');
  });

  // Eight berth processes one after another: on a loaded 2-core machine each may take seconds to start.
  it('events --follow carries on across a daemon restart with no gap and no duplicate', { timeout: 300_000 }, async () => {
    const dir = tempDir();
    let daemon = await startDaemon(dir);
    expect((await berth(dir, 'run', '-d', 'c1', '--', 'sleep', '300')).code).toBe(0);
    const follower = spawn(process.execPath, [BIN, '--state-dir', dir, '--json', 'events', '--follow'], { stdio: ['ignore', 'pipe', 'inherit'] });
    onCleanup(() => void follower.kill());
    let out = '';
    follower.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    try {
      await expect.poll(() => out.split('\n').filter(Boolean).length, { timeout: 120_000 }).toBe(2);
      await stopDaemon(daemon);
      expect((await berth(dir, 'kill', 'c1', '--signal', 'KILL')).code).toBe(0); // daemonless, meanwhile
      daemon = await startDaemon(dir);
      expect((await berth(dir, 'delete', 'c1')).code).toBe(0);
      await expect.poll(() => out.split('\n').filter(Boolean).length, { timeout: 120_000 }).toBe(4);
      const seen = out.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; type: string });
      expect(seen.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
      expect(seen.map((e) => e.type)).toEqual(['create', 'start-container', 'exit', 'delete']);
    } finally {
      follower.kill();
      await stopDaemon(daemon);
    }
  });

  it('viewer prints the live viewer of a daemon started with --inspect', async () => {
    const dir = tempDir();
    const daemon = await startDaemon(dir, '--inspect');
    try {
      const viewer = await berth(dir, 'viewer');
      expect(viewer.stdout.trim()).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/viewer\?token=[\w-]{43}$/);
      expect(await (await fetch(viewer.stdout.trim())).text()).toContain('berth · live');
    } finally {
      await stopDaemon(daemon);
    }
    const plain = await startDaemon(dir);
    try {
      expect((await berth(dir, 'viewer')).stderr).toContain('berth daemon --inspect');
    } finally {
      await stopDaemon(plain);
    }
  });
});

describe.skipIf(!canRunContainers() && !process.env.CI)('the berth CLI on the runc runtime', () => {
  it('run --bundle runs a real container and exits with its status', async () => {
    const dir = tempDir();
    const bundle = busyboxBundle(tempDir('berth-bundle-'), 'cli', { args: ['sh', '-c', 'echo from a container; exit 6'] });
    const run = await berth(dir, '--runtime', 'runc', 'run', '--rm', '--bundle', bundle, 'cli');
    expect(run).toMatchObject({ code: 6, stdout: 'from a container\n' });
    expect(JSON.parse((await berth(dir, '--runtime', 'runc', '--json', 'ps')).stdout)).toEqual([]);
  });
});
