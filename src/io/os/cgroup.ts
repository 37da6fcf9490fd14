import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmdirSync, writeFileSync } from 'node:fs';
import { mkdir, rmdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BerthError } from '../../errors.js';
import type { ContainerStats, LinuxResources } from '../../types.js';
import { readIfPresent } from './os-process.js';
import { cgroupV1 } from './cgroup-v1.js';
import { cgroupV2 } from './cgroup-v2.js';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** One container's cgroup, whichever cgroup version the machine runs. */
export interface ContainerCgroup {
  /** Its directory in each hierarchy: a process joins it by writing its pid into each one's cgroup.procs. */
  readonly dirs: string[];
  /** Sets the limits it can; refuses (`unsupported`) before writing anything if one of them it cannot. */
  apply(resources: LinuxResources): void;
  stats(): ContainerStats;
  /** How often the kernel's OOM killer has acted in it. */
  oomKills(): number;
  /** Freezes (or thaws) every process in it; resolves once the kernel says it is done. */
  setFrozen(frozen: boolean): Promise<void>;
  /** The pids in it, in every hierarchy. */
  pids(): number[];
  /** Makes the kernel kill everything in it at once, if it can (cgroup v2's `cgroup.kill`). */
  killAtOnce(): boolean;
}

/** Where one supervisor's container cgroups live, and how to make them. */
export interface CgroupTree {
  readonly version: 1 | 2;
  /** Makes the cgroup of container `id`; leaves nothing behind if it cannot. */
  create(id: string): Promise<ContainerCgroup>;
  /** A container's cgroup, from the dirs recorded when it was made; undefined if it is gone. */
  at(dirs: string[]): ContainerCgroup | undefined;
  /** The ids of the container cgroups under this supervisor's parent. */
  ids(): string[];
  /** The cgroup of container `id` under the parent, if it exists. */
  find(id: string): ContainerCgroup | undefined;
  /** Removes the parent, once nothing is left in it. */
  close(): void;
}

/** What a version's implementation provides over its hierarchies. */
export interface CgroupVersion {
  readonly version: 1 | 2;
  /** The supervisor's own cgroup in each hierarchy the version uses. */
  readonly bases: string[];
  /** Prepares a dir on the path to the containers (v2 enables controllers for its children). */
  prepare(dir: string): void;
  /** The cgroup made of these dirs (at most one under each base). */
  open(dirs: string[]): ContainerCgroup;
}

/** A cgroup file's text, trimmed; undefined if it is not there. */
export function readCgroupFile(dir: string, file: string): string | undefined {
  return readIfPresent(join(dir, file))?.trim();
}

/** A cgroup file holding one number ('max' reads as 0, as runc reports an unlimited value). */
export function readCgroupNumber(dir: string, file: string): number {
  const text = readCgroupFile(dir, file);
  return text === undefined || text === 'max' ? 0 : Number(text);
}

/** `key value` lines (memory.stat, memory.events, cpu.stat, memory.oom_control) as a map. */
export function readCgroupKeyed(dir: string, file: string): Record<string, number> {
  const entries = (readCgroupFile(dir, file) ?? '').split('\n').map((line) => line.split(' '));
  return Object.fromEntries(entries.filter((e) => e.length === 2).map(([key, value]) => [key, Number(value)]));
}

export function writeCgroupFile(dir: string, file: string, value: string | number): void {
  try {
    writeFileSync(join(dir, file), String(value));
  } catch (err) {
    throw new BerthError('runtime-error', `cannot write ${value} to ${join(dir, file)}: ${(err as Error).message}`, { cause: err });
  }
}

/** The pids listed in one dir's cgroup.procs. */
export function procsOf(dir: string): number[] {
  return (readCgroupFile(dir, 'cgroup.procs') ?? '').split('\n').filter(Boolean).map(Number);
}

/** The resources the process runtime sets, in either version. */
const SETTABLE: Record<string, readonly string[]> = { memory: ['limit', 'reservation', 'swap'], pids: ['limit'], cpu: ['shares', 'quota', 'period'] };

/** Refuses resources the process runtime cannot set, naming them, before anything is written. */
export function refuseUnknown(resources: LinuxResources): void {
  const refused: string[] = [];
  for (const [key, value] of Object.entries(resources)) {
    if (value === undefined) continue;
    const fields = SETTABLE[key];
    if (!fields) refused.push(key);
    else for (const [field, set] of Object.entries(value as object)) if (set !== undefined && !fields.includes(field)) refused.push(`${key}.${field}`);
  }
  if (refused.length > 0) {
    throw new BerthError('unsupported', `the process runtime cannot set ${refused.join(', ')} (it sets memory.limit/reservation/swap, pids.limit, cpu.shares/quota/period)`);
  }
}

/** Lines of /proc/self/cgroup: `<id>:<controllers>:<path>`, as [controllers, path]. */
function ownCgroups(): [string[], string][] {
  return readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [, controllers = '', ...path] = line.split(':');
      return [controllers.split(','), path.join(':')];
    });
}

/** The version this machine offers for containers, with the supervisor's own cgroups as bases; or why there is none. */
function detect(): CgroupVersion | string {
  if (process.getuid?.() !== 0) return 'berth is not running as root';
  const own = ownCgroups();
  const unifiedPath = own.find(([controllers]) => controllers.length === 1 && controllers[0] === '')?.[1];
  for (const mount of [CGROUP_ROOT, join(CGROUP_ROOT, 'unified')]) {
    const controllers = readIfPresent(join(mount, 'cgroup.controllers'))?.split(/\s+/) ?? [];
    if (unifiedPath !== undefined && controllers.includes('memory') && controllers.includes('pids')) return cgroupV2(resolve(join(mount, unifiedPath)));
  }
  if (!existsSync(join(CGROUP_ROOT, 'memory', 'cgroup.procs'))) return 'no cgroup hierarchy with the memory and pids controllers is mounted';
  const bases = new Map<string, string>();
  for (const controller of ['memory', 'pids', 'freezer', 'cpu', 'cpuacct']) {
    const path = own.find(([controllers]) => controllers.includes(controller))?.[1];
    const mount = join(CGROUP_ROOT, controller);
    if (path === undefined || !existsSync(mount)) return `the cgroup v1 ${controller} controller is not mounted`;
    bases.set(controller, resolve(join(realpathSync(mount), path)));
  }
  return cgroupV1(bases);
}

/**
 * The cgroups of one supervisor's containers: `<own cgroup>/<parent>/<id>` in
 * each hierarchy, where parent is `/berth/<hash of the state dir>` as for runc
 * containers, so that two supervisors never share one. Throws, saying why, when
 * the machine offers none this process may make.
 */
export function openCgroupTree(parent: string): CgroupTree {
  const found = detect();
  if (typeof found === 'string') throw new Error(found);
  const { version, bases } = found;
  const under = (base: string) => join(base, parent);
  for (const base of bases) {
    let dir = base;
    for (const part of parent.split('/').filter(Boolean)) {
      found.prepare(dir);
      dir = join(dir, part);
      try {
        mkdirSync(dir, { mode: 0o755 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot make the cgroup ${dir}: ${(err as Error).message}`, { cause: err });
      }
    }
    found.prepare(dir);
  }
  // What is left of a cgroup (a crash may cut its making short) is still one: found, emptied, removed.
  const at = (dirs: string[]) => {
    const left = dirs.filter((dir) => existsSync(dir));
    return left.length > 0 ? found.open(left) : undefined;
  };
  return {
    version,
    // In the thread pool, each hierarchy at once: the kernel takes about a millisecond per memory cgroup made or removed.
    async create(id) {
      const dirs = bases.map((base) => join(under(base), id));
      const made = await Promise.allSettled(dirs.map((dir) => mkdir(dir, { mode: 0o755 })));
      const failed = made.find((result) => result.status === 'rejected');
      if (failed) {
        await Promise.all(dirs.filter((_, i) => made[i]!.status === 'fulfilled').map((dir) => rmdir(dir)));
        throw new BerthError('runtime-error', `cannot make the cgroup of ${id}: ${(failed.reason as Error).message}`, { cause: failed.reason });
      }
      return found.open(dirs);
    },
    at,
    ids: () => [...new Set(bases.flatMap((base) => readdirSync(under(base), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name)))],
    find: (id) => at(bases.map((base) => join(under(base), id))),
    close() {
      for (const base of bases) {
        try {
          rmdirSync(under(base));
        } catch {
          // a container's cgroup is still there (exited but not deleted, or left running)
        }
      }
    },
  };
}

const EMPTYING_MS = 5_000;
const pause = (ms: number) => new Promise((done) => setTimeout(done, ms));

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Kills every process in a cgroup, those that double-forked or called setsid
 * included, and resolves once none is left. Without `cgroup.kill`, as `runc
 * kill --all` does: freeze (so nothing forks meanwhile), SIGKILL every pid in
 * it (frozen, none can exit and hand its pid on), thaw, until it is empty.
 */
async function killEverything(cgroup: ContainerCgroup): Promise<void> {
  const deadline = Date.now() + EMPTYING_MS;
  const atOnce = cgroup.killAtOnce();
  while (cgroup.pids().length > 0) {
    if (Date.now() > deadline) throw new BerthError('runtime-error', `the processes of cgroup ${cgroup.dirs[0]} did not all end within ${EMPTYING_MS} ms`);
    if (!atOnce) {
      await cgroup.setFrozen(true);
      for (const pid of cgroup.pids()) killPid(pid);
      await cgroup.setFrozen(false);
    }
    await pause(2);
  }
}

/**
 * Kills what is left in a cgroup and removes it from every hierarchy; a dir
 * still busy (a killed process not yet reaped by its parent) is tried again.
 * Usually nothing is left (init's monitor empties the cgroup before it records
 * init's exit), and reading who is in it costs more than trying: the first dir
 * goes first, and only one that is busy is emptied. A process joins the dirs
 * in their order (berth-shim's join_cgroups), and its children are born in all
 * of them: with the first one empty, none is in the others.
 */
export async function removeCgroup(cgroup: ContainerCgroup): Promise<void> {
  const deadline = Date.now() + EMPTYING_MS;
  const [first] = cgroup.dirs;
  if (first === undefined || !(await removedIfEmpty(first))) await killEverything(cgroup);
  await Promise.all(cgroup.dirs.map((dir) => removeDir(dir, deadline)));
}

/** rmdir of a cgroup dir: false if it still holds a process (EBUSY). */
async function removedIfEmpty(dir: string): Promise<boolean> {
  try {
    await rmdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EBUSY') return false;
    if (code !== 'ENOENT') throw new BerthError('runtime-error', `cannot remove cgroup ${dir}: ${(err as Error).message}`, { cause: err });
  }
  return true;
}

/** rmdir, tried again while the kernel still finds the cgroup busy, until `deadline`. */
async function removeDir(dir: string, deadline: number): Promise<void> {
  for (;;) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || Date.now() > deadline) throw new BerthError('runtime-error', `cannot remove cgroup ${dir}: ${(err as Error).message}`, { cause: err });
      await pause(2);
    }
  }
}

/** Waits (briefly: the kernel freezes within milliseconds) until `done` says the freezer has settled. */
export async function untilSettled(dir: string, done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + EMPTYING_MS;
  while (!done()) {
    if (Date.now() > deadline) throw new BerthError('runtime-error', `cgroup ${dir} did not ${what} within ${EMPTYING_MS} ms`);
    await pause(1);
  }
}
