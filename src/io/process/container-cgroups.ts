import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { BerthError } from '../../errors.js';
import type { LinuxResources } from '../../types.js';
import { openCgroupTree, refuseUnknown, removeCgroup, type CgroupTree, type ContainerCgroup } from '../os/cgroup.js';
import { readIfPresent } from '../os/os-process.js';

/** `<container dir>/cgroups`: the container's cgroup dirs, one a line; berth-shim joins each before it execs a process. */
const CGROUPS_FILE = 'cgroups';

/** The process runtime's cgroups, or why it has none (not root, no writable cgroup tree). */
export type Cgroups = { tree: CgroupTree } | { unavailable: string };

/** Opens this supervisor's cgroup tree; without one, says so once and carries on with process groups alone. */
export function openCgroups(parent: string, logger: Logger): Cgroups {
  try {
    return { tree: openCgroupTree(parent) };
  } catch (err) {
    const unavailable = (err as Error).message;
    logger.warn({ reason: unavailable }, 'process runtime: no cgroups, so no resource limits: containers keep process groups, and `resources` is refused');
    return { unavailable };
  }
}

/** Refuses resources before anything is made, when there is no cgroup to hold them or a field cannot be set. */
export function checkResources(cgroups: Cgroups, resources: LinuxResources | undefined): void {
  if (!resources) return;
  if ('unavailable' in cgroups) throw new BerthError('unsupported', `resource limits need a cgroup, and this supervisor has none: ${cgroups.unavailable}`);
  refuseUnknown(resources);
}

/**
 * Makes a container's cgroup with its limits and lists it for berth-shim. What
 * is left under its name (a delete or a create cut short) is ours, since the
 * parent is this state dir's: emptied and removed, and the cgroup made again.
 */
export async function makeContainerCgroup(tree: CgroupTree, id: string, dir: string, resources: LinuxResources | undefined): Promise<ContainerCgroup> {
  const cgroup = await tree.create(id).catch(async (err: unknown) => {
    const stale = tree.find(id);
    if (!stale) throw err;
    await removeCgroup(stale);
    return tree.create(id);
  });
  try {
    if (resources) cgroup.apply(resources);
    writeFileSync(join(dir, CGROUPS_FILE), cgroup.dirs.map((d) => `${d}\n`).join(''), { mode: 0o600 });
  } catch (err) {
    await removeCgroup(cgroup);
    throw err;
  }
  return cgroup;
}

/** A restored container's cgroup: the one its dir lists (made by an earlier supervisor, wherever that one ran), else the one under its name. */
export function recordedCgroup(tree: CgroupTree, id: string, dir: string): ContainerCgroup | undefined {
  const listed = readIfPresent(join(dir, CGROUPS_FILE))?.split('\n').filter(Boolean);
  return listed ? tree.at(listed) : tree.find(id);
}

/** Whether the container was made with a cgroup (its dir lists one), even if that cgroup is gone with its exited init. */
export function hadCgroup(dir: string): boolean {
  return existsSync(join(dir, CGROUPS_FILE));
}
