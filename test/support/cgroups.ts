import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Whether the process runtime gives containers cgroups here: root, with a cgroup v1 memory hierarchy or v2 with its controllers. */
export const CGROUPS =
  process.getuid?.() === 0 &&
  (existsSync('/sys/fs/cgroup/memory/cgroup.procs') ||
    ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'].some((mount) => /\bmemory\b/.test(readIfThere(join(mount, 'cgroup.controllers')))));

function readIfThere(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

/** What a paused process's state reads: frozen by the cgroup's freezer ('D'), or stopped by SIGSTOP ('T') without one. */
export const PAUSED_STATE = CGROUPS ? 'D' : 'T';

/** A container's cgroup dirs, as the process runtime listed them for berth-shim. */
export function cgroupDirs(stateDir: string, id: string): string[] {
  return readFileSync(join(stateDir, 'containers', id, 'cgroups'), 'utf8').split('\n').filter(Boolean);
}

/** The dir of one controller ('memory', 'pids', 'freezer'; the only dir on v2). */
export function cgroupDir(stateDir: string, id: string, controller: string): string {
  const dirs = cgroupDirs(stateDir, id);
  return dirs.find((dir) => dir.startsWith(`/sys/fs/cgroup/${controller}/`)) ?? dirs[0]!;
}

/** A cgroup file's text, trimmed. */
export function cgroupFile(dir: string, file: string): string {
  return readFileSync(join(dir, file), 'utf8').trim();
}
