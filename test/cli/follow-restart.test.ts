import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { onCleanup, tempDir } from '../helpers.js';
import { berth, BIN, startDaemon, stopDaemon } from './berth-cli.js';

/** Longer than the minute followers used to give a daemon to come back. */
const DOWN_MS = 65_000;

function follow(dir: string, ...args: string[]): { child: ChildProcess; out: () => string; err: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, '--state-dir', dir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  onCleanup(() => void child.kill());
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, out: () => out, err: () => err, exited };
}

describe('logs -f and events -f through a daemon', () => {
  it('ride out a daemon restart longer than a minute, say so while they wait, and miss nothing', { timeout: 400_000 }, async () => {
    const dir = tempDir();
    const go = join(tempDir('berth-control-'), 'go');
    let daemon = await startDaemon(dir);
    const script = `echo before; while [ ! -e '${go}' ]; do sleep 0.1; done; echo after`;
    expect((await berth(dir, 'run', '-d', 'c', '--', 'sh', '-c', script)).code).toBe(0);
    const logs = follow(dir, 'logs', '-f', 'c');
    const events = follow(dir, '--json', 'events', '--follow');
    try {
      await expect.poll(() => logs.out(), { timeout: 120_000 }).toBe('before\n');
      await expect.poll(() => events.out().split('\n').filter(Boolean).length, { timeout: 120_000 }).toBe(2);
      await stopDaemon(daemon);
      await new Promise((done) => setTimeout(done, DOWN_MS));
      expect([logs.child.exitCode, events.child.exitCode]).toEqual([null, null]);
      expect(logs.err()).toMatch(/the berth daemon went away; waiting for it to come back \(Ctrl-C to stop\)/);
      expect(events.err()).toMatch(/the berth daemon at .* went away; waiting for it to come back/);
      writeFileSync(go, ''); // the process ends while no daemon runs
      daemon = await startDaemon(dir);
      expect(await logs.exited).toBe(0);
      expect(logs.out()).toBe('before\nafter\n');
      expect(logs.err()).toContain('is back; carrying on');
      await expect.poll(() => events.out().split('\n').filter(Boolean).length, { timeout: 120_000 }).toBe(3);
      const seen = events.out().trim().split('\n').map((l) => JSON.parse(l) as { seq: number; type: string });
      expect(seen.map((e) => [e.seq, e.type])).toEqual([[1, 'create'], [2, 'start-container'], [3, 'exit']]);
    } finally {
      events.child.kill();
      await stopDaemon(daemon);
    }
  });
});
