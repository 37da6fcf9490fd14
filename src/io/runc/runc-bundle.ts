import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { BerthError } from '../../errors.js';
import type { BundleProcess, LinuxResources } from '../../types.js';
import { readIfPresent } from '../os/os-process.js';
import { parseJson } from './runc-cli.js';
import { ociJson } from './oci-json.js';

const CGROUP_ROOT = '/sys/fs/cgroup';

interface OciConfig {
  root?: { path?: string };
  process?: { args?: string[]; env?: string[]; cwd?: string; terminal?: boolean };
  mounts?: { source?: string; type?: string; options?: string[] }[];
  linux?: { cgroupsPath?: string; resources?: Record<string, unknown> };
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

/** create's changes to the process (BundleProcess), made as `ctr run` makes them. */
function changeProcess(config: OciConfig, changes: BundleProcess): void {
  const process = (config.process ??= {});
  if (changes.args) process.args = changes.args;
  if (changes.cwd !== undefined) process.cwd = changes.cwd;
  if (changes.env) {
    const names = new Set(Object.keys(changes.env));
    const kept = (process.env ?? []).filter((entry) => !names.has(entry.slice(0, entry.indexOf('='))));
    process.env = [...kept, ...Object.entries(changes.env).map(([name, value]) => `${name}=${value}`)];
  }
}

/**
 * Writes the bundle runc really runs, `<dir>/bundle`: the user's config.json with
 * its relative paths (rootfs, bind sources) made absolute, a cgroup under
 * `cgroupParent` unless the config names one, create's resources and changes to
 * the process. The user's bundle is never modified,
 * and an edit to it after create cannot change what later execs run as.
 */
export function writeRuntimeBundle(
  userBundle: string,
  dir: string,
  cgroupParent: string | undefined,
  id: string,
  resources?: LinuxResources,
  process?: BundleProcess,
): string {
  let config: OciConfig;
  try {
    config = JSON.parse(readFileSync(join(userBundle, 'config.json'), 'utf8')) as OciConfig;
  } catch (err) {
    throw new BerthError('invalid-spec', `bundle ${userBundle}: cannot read config.json: ${(err as Error).message}`);
  }
  // Until containers get terminals: runc would fail with "cannot allocate tty if runc will detach".
  if (config.process?.terminal === true) throw new BerthError('unsupported', `bundle ${userBundle}: berth cannot give a container a terminal yet: set "terminal": false in the process of its config.json (\`runc spec\` writes true)`);
  if (process) changeProcess(config, process);
  const absolute = (path: string) => (isAbsolute(path) ? path : resolve(userBundle, path));
  if (config.root?.path) config.root.path = absolute(config.root.path);
  for (const mount of config.mounts ?? []) if (mount.source && isBind(mount)) mount.source = absolute(mount.source);
  if (cgroupParent && !config.linux?.cgroupsPath) config.linux = { ...config.linux, cgroupsPath: `${cgroupParent}/${id}` };
  // create's resources, as on the process runtime: each section given replaces the config's.
  if (resources) config.linux = { ...config.linux, resources: { ...config.linux?.resources, ...resources } };
  const bundle = runtimeBundle(dir);
  mkdirSync(bundle, { recursive: true, mode: 0o700 });
  writeFileSync(join(bundle, 'config.json'), ociJson(config), { mode: 0o600 });
  return bundle;
}

/** Where writeRuntimeBundle put a container's bundle. */
export const runtimeBundle = (dir: string) => join(dir, 'bundle');

/** The cgroup hierarchies a cgroup path exists in: the unified one, or each v1 controller's. */
function hierarchies(): string[] {
  if (!existsSync(CGROUP_ROOT)) return [];
  return existsSync(join(CGROUP_ROOT, 'cgroup.controllers')) ? [CGROUP_ROOT] : readdirSync(CGROUP_ROOT).map((name) => join(CGROUP_ROOT, name));
}

/** rmdir, which the kernel refuses for a cgroup that still has processes or children. */
function removeIfEmpty(cgroup: string): void {
  try {
    rmdirSync(cgroup);
  } catch {
    // not there in this hierarchy, or still in use
  }
}

/**
 * Removes a supervisor's cgroup parent from every hierarchy, once nothing of it
 * is left: rmdir refuses a cgroup that still has children, so a container still
 * there (exited but not deleted, or left running) keeps it.
 */
export function removeCgroupParent(cgroupParent: string): void {
  for (const hierarchy of hierarchies()) removeIfEmpty(join(hierarchy, cgroupParent));
}

/**
 * Removes the cgroups under the parent of containers the registry does not know
 * (a create cut short), killing what is left in them first (`cgroup.kill`): the
 * parent is this state dir's, so nothing in them belongs to anyone else.
 */
export async function removeUnknownCgroups(cgroupParent: string, known: ReadonlySet<string>): Promise<void> {
  for (const hierarchy of hierarchies()) {
    const parent = join(hierarchy, cgroupParent);
    if (!existsSync(parent)) continue;
    for (const entry of readdirSync(parent, { withFileTypes: true })) {
      if (!entry.isDirectory() || known.has(entry.name)) continue;
      const cgroup = join(parent, entry.name);
      await emptied(cgroup);
      removeIfEmpty(cgroup);
    }
  }
}

const EMPTYING_MS = 2_000;

/** Kills a cgroup's processes and waits (briefly) until the kernel has taken them out. */
async function emptied(cgroup: string): Promise<void> {
  try {
    writeFileSync(join(cgroup, 'cgroup.kill'), '1');
  } catch {
    return; // cgroup v1, or a kernel before 5.14: rmdir will say whether it is empty
  }
  for (const deadline = Date.now() + EMPTYING_MS; Date.now() < deadline; ) {
    if ((readIfPresent(join(cgroup, 'cgroup.procs')) ?? '').trim() === '') return;
    await new Promise((done) => setTimeout(done, 20));
  }
}

/** The process of the container's own config.json, the template of its execs. */
export function readProcessTemplate(bundle: string): Record<string, unknown> {
  const path = join(bundle, 'config.json');
  const config = parseJson(readIfPresent(path) ?? '', path) as { process?: unknown } | null;
  if (typeof config?.process !== 'object' || config.process === null) {
    throw new BerthError('runtime-error', `${path} has no process to run execs as`);
  }
  return config.process as Record<string, unknown>;
}
