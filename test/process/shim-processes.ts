import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Supervisor } from '../../src/index.js';
import { commandLine, readIfPresent } from '../../src/io/os/os-process.js';

/** Another process's environment, or undefined if it is gone or not ours to read (pid 1's, in a container). */
function environOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return undefined;
  }
}

const pids = () => readdirSync('/proc').filter((pid) => /^\d+$/.test(pid)).map(Number);
const statOf = (pid: number) => readIfPresent(`/proc/${pid}/stat`)?.split(') ')[1]?.split(' ') ?? [];

/** The running zygote a supervisor in process `supervisorPid` started: its child `berth-shim zygote`. */
export function zygoteOf(supervisorPid: number): number {
  const zygotes = pids().filter((pid) => {
    const [state, parent] = statOf(pid);
    return Number(parent) === supervisorPid && state !== 'Z' && commandLine(pid)?.endsWith('berth-shim zygote');
  });
  if (zygotes.length !== 1) throw new Error(`expected one zygote of ${supervisorPid}, found ${zygotes.length}`);
  return zygotes[0]!;
}

/**
 * Live processes (zombies have no environment) whose environment holds
 * `BERTH_TEST_MARK=<mark>`; berth-shim's own (zygote, monitors) only if asked.
 */
export function markedProcesses(mark: string, { shims = false } = {}): number[] {
  return pids().filter(
    (pid) =>
      environOf(pid)?.split('\0').includes(`BERTH_TEST_MARK=${mark}`) &&
      (shims || !commandLine(pid)?.endsWith('berth-shim zygote')),
  );
}

/**
 * A fresh marker, in the environment of every process started from here on
 * that inherits it: berth-shim's own, and jobs created with `inheritEnv: true`.
 */
export function mark(): string {
  const token = randomBytes(6).toString('hex');
  process.env.BERTH_TEST_MARK = token;
  return token;
}

export function unmark(): void {
  delete process.env.BERTH_TEST_MARK;
}

/**
 * Container 'c' whose start timed out (its request held in a stopped zygote,
 * then let through), beside a running container 'warm'. The supervisor needs a
 * short start timeout.
 */
export async function startTimedOut(sv: Supervisor): Promise<void> {
  await sv.create({ id: 'warm', process: { args: ['sleep', '30'], inheritEnv: true } });
  await sv.start('warm'); // the zygote runs
  const zygote = zygoteOf(process.pid);
  await sv.create({ id: 'c', process: { args: ['sleep', '30'], inheritEnv: true } });
  process.kill(zygote, 'SIGSTOP');
  await expect(sv.start('c')).rejects.toMatchObject({ code: 'runtime-error' });
  process.kill(zygote, 'SIGCONT');
}

/** Runs `body` with `dir` on a tiny filesystem of its own (root only); `fill` leaves it with no free block. */
export async function onTinyDisk(dir: string, body: (fill: () => void) => Promise<void>): Promise<void> {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', dir]);
  const fill = () => {
    const filler = openSync(join(dir, 'filler'), 'w');
    try {
      for (;;) writeSync(filler, Buffer.alloc(4096));
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      closeSync(filler);
    }
  };
  try {
    await body(fill);
  } finally {
    execFileSync('umount', ['-l', dir]);
  }
}
