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

/** Whether a process is paused: stopped by SIGSTOP, or in a cgroup whose freezer (v1) or cgroup.freeze (v2) holds it frozen. */
export function paused(pid: number): boolean {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('T')) return true;
  return readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .some((line) => {
      const [, controllers, path = ''] = line.split(':');
      if (controllers === 'freezer') return readIfThere(join('/sys/fs/cgroup/freezer', path, 'freezer.state')).trim() === 'FROZEN';
      return controllers === '' && ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'].some((mount) => /frozen 1/.test(readIfThere(join(mount, path, 'cgroup.events'))));
    });
}
