import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const BUSYBOX = '/bin/busybox';
/** The directories the rootfs has, as `ls /` in a container shows them. */
export const ROOTFS_DIRS = ['bin', 'dev', 'etc', 'home', 'proc', 'root', 'run', 'sys', 'tmp', 'usr', 'var'];

let rootfs: string | undefined;

/** Whether this machine can run real containers (root, runc, conmon, busybox-static). */
export function canRunContainers(): boolean {
  const has = (cmd: string) => {
    try {
      execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  return process.getuid?.() === 0 && has('runc') && has('conmon') && existsSync(BUSYBOX);
}

/**
 * One busybox rootfs (from Debian's busybox-static) shared by every bundle of the
 * run: at BERTH_TEST_ROOTFS, which the run's temp root (temp-root.ts) removes at
 * the end, built by whichever process needs it first; without it (benchmarks),
 * one in the temp dir per process.
 */
function sharedRootfs(): string {
  if (rootfs) return rootfs;
  const shared = process.env.BERTH_TEST_ROOTFS;
  if (shared && existsSync(shared)) return (rootfs = shared);
  const building = join(mkdtempSync(join(shared ? dirname(shared) : tmpdir(), 'berth-rootfs-')), 'rootfs');
  for (const dir of ROOTFS_DIRS) mkdirSync(join(building, dir), { recursive: true });
  copyFileSync(BUSYBOX, join(building, 'bin/busybox'));
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const applet of applets) if (applet !== 'busybox') symlinkSync('busybox', join(building, 'bin', applet));
  writeFileSync(join(building, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  if (!shared) return (rootfs = building);
  try {
    renameSync(building, shared); // whole or not at all: another process may be building it too
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  rmSync(dirname(building), { recursive: true, force: true });
  return (rootfs = shared);
}

export interface BundleOptions {
  args: string[];
  /** Memory limit in bytes (linux.resources.memory.limit). */
  memoryLimit?: number;
  /** Host directories bind-mounted into the container. */
  mounts?: { source: string; destination: string }[];
}

/** An OCI bundle from `runc spec` (terminal false) running `args` in the shared busybox rootfs. */
export function busyboxBundle(parent: string, name: string, options: BundleOptions): string {
  const bundle = join(parent, name);
  mkdirSync(bundle, { recursive: true });
  execFileSync('runc', ['spec', '--bundle', bundle]);
  const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  config.root = { path: sharedRootfs(), readonly: false };
  config.process.terminal = false;
  config.process.args = options.args;
  if (options.memoryLimit !== undefined) {
    config.linux.resources = { ...config.linux.resources, memory: { limit: options.memoryLimit, swap: options.memoryLimit } };
  }
  for (const { source, destination } of options.mounts ?? []) {
    config.mounts.push({ destination, type: 'bind', source, options: ['rbind', 'rw'] });
  }
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config, null, 2));
  return bundle;
}
