import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { BerthError } from '../../errors.js';

const CGROUP_ROOT = '/sys/fs/cgroup';

interface OciConfig {
  root?: { path?: string };
  mounts?: { source?: string; type?: string; options?: string[] }[];
  linux?: { cgroupsPath?: string };
}

/**
 * The cgroup parent of one supervisor's containers. runc puts a container whose
 * config names no cgroupsPath in the cgroup `/<id>`, shared by every container
 * of that id on the host: two supervisors running a `build-1` would freeze,
 * limit and kill each other's processes. The parent is derived from the state dir,
 * which only one supervisor at a time may hold.
 */
export function defaultCgroupParent(stateDir: string): string {
  return `/berth/${createHash('sha256').update(resolve(stateDir)).digest('hex').slice(0, 12)}`;
}

const isBind = (mount: { type?: string; options?: string[] }) =>
  mount.type === 'bind' || (mount.options ?? []).some((option) => option === 'bind' || option === 'rbind');

/**
 * Writes the bundle runc really runs, `<dir>/bundle`: the user's config.json with
 * its relative paths (rootfs, bind sources) made absolute, and a cgroup under
 * `cgroupParent` unless the config names one. The user's bundle is never modified,
 * and an edit to it after create cannot change what later execs run as.
 */
export function writeRuntimeBundle(userBundle: string, dir: string, cgroupParent: string | undefined, id: string): string {
  let config: OciConfig;
  try {
    config = JSON.parse(readFileSync(join(userBundle, 'config.json'), 'utf8')) as OciConfig;
  } catch (err) {
    throw new BerthError('invalid-spec', `bundle ${userBundle}: cannot read config.json: ${(err as Error).message}`);
  }
  const absolute = (path: string) => (isAbsolute(path) ? path : resolve(userBundle, path));
  if (config.root?.path) config.root.path = absolute(config.root.path);
  for (const mount of config.mounts ?? []) if (mount.source && isBind(mount)) mount.source = absolute(mount.source);
  if (cgroupParent && !config.linux?.cgroupsPath) config.linux = { ...config.linux, cgroupsPath: `${cgroupParent}/${id}` };
  const bundle = runtimeBundle(dir);
  mkdirSync(bundle, { recursive: true, mode: 0o700 });
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config), { mode: 0o600 });
  return bundle;
}

/** Where writeRuntimeBundle put a container's bundle. */
export const runtimeBundle = (dir: string) => join(dir, 'bundle');

/**
 * Removes a supervisor's cgroup parent from every hierarchy, once nothing of it
 * is left: rmdir refuses a cgroup that still has children, so a container still
 * there (exited but not deleted, or left running) keeps it.
 */
export function removeCgroupParent(cgroupParent: string): void {
  if (!existsSync(CGROUP_ROOT)) return;
  const unified = existsSync(join(CGROUP_ROOT, 'cgroup.controllers'));
  const hierarchies = unified ? [CGROUP_ROOT] : readdirSync(CGROUP_ROOT).map((name) => join(CGROUP_ROOT, name));
  for (const hierarchy of hierarchies) {
    try {
      rmdirSync(join(hierarchy, cgroupParent));
    } catch {
      // not there in this hierarchy, or still in use
    }
  }
}
