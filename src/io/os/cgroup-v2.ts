import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LinuxResources } from '../../types.js';
import {
  procsOf,
  readCgroupFile,
  readCgroupKeyed,
  readCgroupNumber,
  refuseUnknown,
  untilSettled,
  writeCgroupFile,
  type CgroupVersion,
  type ContainerCgroup,
} from './cgroup.js';

const CONTROLLERS = ['memory', 'pids', 'cpu'];
const DEFAULT_PERIOD_US = 100_000;

/** OCI's -1 (and, for pids, 0 or less) is v2's 'max'. */
const orMax = (value: number, unlimited: (v: number) => boolean) => (unlimited(value) ? 'max' : value);

/** cpu.shares (2..262144) on v2's cpu.weight scale (1..10000), as runc converts it. */
export const sharesToWeight = (shares: number) => 1 + Math.floor(((shares - 2) * 9999) / 262142);

/** A container's cgroup v2: one dir in the unified hierarchy. */
class CgroupV2 implements ContainerCgroup {
  readonly dirs: string[];

  constructor(private readonly dir: string) {
    this.dirs = [dir];
  }

  apply(resources: LinuxResources): void {
    refuseUnknown(resources);
    const { memory, pids, cpu } = resources;
    const dir = this.dir;
    if (memory?.limit !== undefined) writeCgroupFile(dir, 'memory.max', orMax(memory.limit, (v) => v < 0));
    if (memory?.reservation !== undefined) writeCgroupFile(dir, 'memory.low', orMax(memory.reservation, (v) => v < 0));
    // OCI's swap is memory+swap; v2 limits swap alone. No swap beyond the limit unless asked, so the limit holds.
    const limit = memory?.limit ?? readCgroupNumber(dir, 'memory.max');
    if (memory && existsSync(join(dir, 'memory.swap.max')) && (memory.limit !== undefined || memory.swap !== undefined)) {
      const swap = memory.swap ?? limit;
      writeCgroupFile(dir, 'memory.swap.max', swap < 0 || limit <= 0 ? 'max' : Math.max(0, swap - limit));
    }
    if (pids) writeCgroupFile(dir, 'pids.max', orMax(pids.limit, (v) => v <= 0));
    if (cpu?.shares !== undefined) writeCgroupFile(dir, 'cpu.weight', sharesToWeight(cpu.shares));
    if (cpu?.quota !== undefined || cpu?.period !== undefined) {
      const [quota = 'max', period = String(DEFAULT_PERIOD_US)] = (readCgroupFile(dir, 'cpu.max') ?? '').split(' ');
      const newQuota = cpu.quota === undefined ? quota : orMax(cpu.quota, (v) => v < 0);
      writeCgroupFile(dir, 'cpu.max', `${newQuota} ${cpu.period ?? period}`);
    }
  }

  stats() {
    const dir = this.dir;
    const cpu = readCgroupKeyed(dir, 'cpu.stat');
    const events = readCgroupKeyed(dir, 'memory.events');
    return {
      cpu: { totalNs: (cpu.usage_usec ?? 0) * 1000, userNs: (cpu.user_usec ?? 0) * 1000, kernelNs: (cpu.system_usec ?? 0) * 1000, perCpuNs: [] },
      memory: {
        usage: readCgroupNumber(dir, 'memory.current'),
        limit: readCgroupNumber(dir, 'memory.max'),
        max: readCgroupNumber(dir, 'memory.peak'),
        failcnt: events.max ?? 0,
      },
      pids: { current: readCgroupNumber(dir, 'pids.current'), limit: readCgroupNumber(dir, 'pids.max') },
      raw: { memory: readCgroupKeyed(dir, 'memory.stat'), events, cpu },
    };
  }

  oomKills(): number {
    return readCgroupKeyed(this.dir, 'memory.events').oom_kill ?? 0;
  }

  async setFrozen(frozen: boolean): Promise<void> {
    writeCgroupFile(this.dir, 'cgroup.freeze', frozen ? 1 : 0);
    await untilSettled(this.dir, () => readCgroupKeyed(this.dir, 'cgroup.events').frozen === (frozen ? 1 : 0), frozen ? 'freeze' : 'thaw');
  }

  pids(): number[] {
    return procsOf(this.dir);
  }

  killAtOnce(): boolean {
    if (!existsSync(join(this.dir, 'cgroup.kill'))) return false; // before Linux 5.14
    writeCgroupFile(this.dir, 'cgroup.kill', 1);
    return true;
  }
}

/** cgroup v2, under the supervisor's own cgroup; each cgroup on the way enables the controllers for its children. */
export function cgroupV2(base: string): CgroupVersion {
  return {
    version: 2,
    bases: [base],
    prepare(dir) {
      const available = (readCgroupFile(dir, 'cgroup.controllers') ?? '').split(' ');
      const missing = CONTROLLERS.filter((c) => !available.includes(c));
      if (missing.length > 0) throw new Error(`cgroup ${dir} does not offer the ${missing.join(', ')} controller`);
      const enabled = (readCgroupFile(dir, 'cgroup.subtree_control') ?? '').split(' ');
      const wanted = CONTROLLERS.filter((c) => !enabled.includes(c));
      // Refused (EBUSY) where the dir holds processes, the supervisor's own cgroup among them: then there are no limits.
      if (wanted.length > 0) writeCgroupFile(dir, 'cgroup.subtree_control', wanted.map((c) => `+${c}`).join(' '));
    },
    open: (dirs) => new CgroupV2(dirs[0]!),
  };
}
