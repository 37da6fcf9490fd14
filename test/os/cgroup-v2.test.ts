import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { refuseUnknown, removeCgroup } from '../../src/io/os/cgroup.js';
import { cgroupV2, sharesToWeight } from '../../src/io/os/cgroup-v2.js';
import { processRunning } from '../../src/io/os/os-process.js';

/**
 * cgroup v2 where the machine has a v2 hierarchy root may write: its freezer,
 * cgroup.kill and removal need no controller, so they run for real even on a
 * hybrid machine whose v2 hierarchy has none (limits and stats need them).
 */
const UNIFIED = ['/sys/fs/cgroup/unified', '/sys/fs/cgroup'].find((mount) => existsSync(join(mount, 'cgroup.procs')) && existsSync(join(mount, 'cgroup.controllers')));
const made: string[] = [];

afterEach(() => {
  for (const dir of made.splice(0)) if (existsSync(dir)) rmdirSync(dir);
});

function testCgroup(): string {
  const dir = join(UNIFIED!, `berth-v2-test-${process.pid}-${made.length}`);
  mkdirSync(dir);
  made.push(dir);
  return dir;
}

describe('cgroup v2 values', () => {
  it('converts cpu.shares to cpu.weight as runc does', () => {
    expect([sharesToWeight(2), sharesToWeight(1024), sharesToWeight(262_144)]).toEqual([1, 39, 10_000]);
  });

  it('refuses, naming them, the resources it cannot set', () => {
    expect(() => refuseUnknown({ memory: { limit: 1 }, cpu: { cpus: '0' }, blockIO: { weight: 10 } })).toThrow(/cpu\.cpus, blockIO/);
    expect(() => refuseUnknown({ memory: { limit: 1, swap: 2 }, pids: { limit: 8 }, cpu: { shares: 2, quota: 1, period: 1000 } })).not.toThrow();
  });
});

describe.skipIf(!UNIFIED || process.getuid?.() !== 0)('a cgroup v2 (root)', () => {
  it('freezes and thaws its processes, and removing it kills them all, setsid ones included', async () => {
    const dir = testCgroup();
    const cgroup = cgroupV2(UNIFIED!).open([dir]);
    // It forks only once told to, after it joined: its grandchild is born inside.
    const child = spawn('sh', ['-c', 'read go; setsid sleep 30 & echo $!; exec sleep 30'], { stdio: ['pipe', 'pipe', 'ignore'] });
    writeFileSync(join(dir, 'cgroup.procs'), String(child.pid));
    child.stdin.write('go\n');
    const grandchild = await new Promise<number>((done) => child.stdout.once('data', (line: Buffer) => done(Number(line.toString()))));
    expect(cgroup.pids().sort()).toEqual([child.pid!, grandchild].sort());
    await cgroup.setFrozen(true);
    expect(readFileSync(join(dir, 'cgroup.events'), 'utf8')).toMatch(/frozen 1/);
    await cgroup.setFrozen(false);
    expect(readFileSync(join(dir, 'cgroup.events'), 'utf8')).toMatch(/frozen 0/);
    await removeCgroup(cgroup);
    expect(existsSync(dir)).toBe(false);
    expect(processRunning(grandchild)).toBe(false);
  });

  it('is refused where the hierarchy does not offer the controllers limits need', () => {
    const offered = readFileSync(join(UNIFIED!, 'cgroup.controllers'), 'utf8');
    if (/\bmemory\b/.test(offered) && /\bpids\b/.test(offered)) return; // a full v2 machine: the process runtime's tests use it
    expect(() => cgroupV2(UNIFIED!).prepare(UNIFIED!)).toThrow(/does not offer the (memory|pids)/);
  });
});
