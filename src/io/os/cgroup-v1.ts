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

/** Clock ticks per second of cpuacct.stat (USER_HZ, 100 on Linux). */
const USER_HZ = 100;


/** -1 (or, for pids, 0) is "no limit"; v1 takes -1 for memory and cpu quota, and 'max' for pids. */
const pidsMax = (limit: number) => (limit > 0 ? limit : 'max');

/** A container's cgroup v1: one dir per controller (memory, pids, freezer, cpu, cpuacct). */
class CgroupV1 implements ContainerCgroup {
  constructor(
    readonly dirs: string[],
    private readonly of: (controller: string) => string,
  ) {}

  apply(resources: LinuxResources): void {
    refuseUnknown(resources);
    const { memory, pids, cpu } = resources;
    const mem = this.of('memory');
    if (memory?.limit !== undefined || memory?.swap !== undefined) {
      // memory+swap (memsw) may never be below the memory limit: which is written first depends on the way it moves.
      const limit = memory.limit ?? readCgroupNumber(mem, 'memory.limit_in_bytes');
      const swap = memory.swap ?? limit; // no swap beyond the limit unless asked, so the limit holds
      const withSwap = existsSync(join(mem, 'memory.memsw.limit_in_bytes'));
      const raising = limit === -1 || limit > readCgroupNumber(mem, 'memory.limit_in_bytes');
      if (withSwap && raising) writeCgroupFile(mem, 'memory.memsw.limit_in_bytes', swap);
      if (memory.limit !== undefined) writeCgroupFile(mem, 'memory.limit_in_bytes', limit);
      if (withSwap && !raising) writeCgroupFile(mem, 'memory.memsw.limit_in_bytes', swap);
    }
    if (memory?.reservation !== undefined) writeCgroupFile(mem, 'memory.soft_limit_in_bytes', memory.reservation);
    if (pids) writeCgroupFile(this.of('pids'), 'pids.max', pidsMax(pids.limit));
    if (cpu?.shares !== undefined) writeCgroupFile(this.of('cpu'), 'cpu.shares', cpu.shares);
    if (cpu?.period !== undefined) writeCgroupFile(this.of('cpu'), 'cpu.cfs_period_us', cpu.period);
    if (cpu?.quota !== undefined) writeCgroupFile(this.of('cpu'), 'cpu.cfs_quota_us', cpu.quota);
  }

  stats() {
    const mem = this.of('memory');
    const acct = this.of('cpuacct');
    const ticks = readCgroupKeyed(acct, 'cpuacct.stat');
    const raw = {
      memory: readCgroupKeyed(mem, 'memory.stat'),
      oom: readCgroupKeyed(mem, 'memory.oom_control'),
      cpu: readCgroupKeyed(this.of('cpu'), 'cpu.stat'),
    };
    return {
      cpu: {
        totalNs: readCgroupNumber(acct, 'cpuacct.usage'),
        userNs: ((ticks.user ?? 0) * 1e9) / USER_HZ,
        kernelNs: ((ticks.system ?? 0) * 1e9) / USER_HZ,
        perCpuNs: (readCgroupFile(acct, 'cpuacct.usage_percpu') ?? '').split(/\s+/).filter(Boolean).map(Number),
      },
      memory: {
        usage: readCgroupNumber(mem, 'memory.usage_in_bytes'),
        limit: readCgroupNumber(mem, 'memory.limit_in_bytes'),
        max: readCgroupNumber(mem, 'memory.max_usage_in_bytes'),
        failcnt: readCgroupNumber(mem, 'memory.failcnt'),
      },
      pids: { current: readCgroupNumber(this.of('pids'), 'pids.current'), limit: readCgroupNumber(this.of('pids'), 'pids.max') },
      raw,
    };
  }

  oomKills(): number {
    return readCgroupKeyed(this.of('memory'), 'memory.oom_control').oom_kill ?? 0;
  }

  async setFrozen(frozen: boolean): Promise<void> {
    const freezer = this.of('freezer');
    const wanted = frozen ? 'FROZEN' : 'THAWED';
    // Written again while it settles: a process forked meanwhile can leave it FREEZING (runc does the same).
    await untilSettled(freezer, () => {
      if (readCgroupFile(freezer, 'freezer.state') === wanted) return true;
      writeCgroupFile(freezer, 'freezer.state', wanted);
      return readCgroupFile(freezer, 'freezer.state') === wanted;
    }, frozen ? 'freeze' : 'thaw');
  }

  pids(): number[] {
    return [...new Set(this.dirs.flatMap(procsOf))];
  }

  killAtOnce(): boolean {
    return false; // no cgroup.kill in v1
  }
}

/** cgroup v1, with the supervisor's own cgroup of each controller as its base. */
export function cgroupV1(bases: Map<string, string>): CgroupVersion {
  return {
    version: 1,
    bases: [...new Set(bases.values())],
    prepare: () => {},
    open(dirs) {
      // A dir belongs to the controller whose base it is under (cpu and cpuacct may share one).
      const of = (controller: string) => dirs.find((dir) => dir.startsWith(`${bases.get(controller)}/`)) ?? join(bases.get(controller)!, 'absent');
      return new CgroupV1(dirs, of);
    },
  };
}
