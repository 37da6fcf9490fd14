import { InvalidArgumentError, type Command } from 'commander';
import type { LinuxResources } from '../../types.js';
import { bytes, count } from './flag-values.js';
import { withBackend } from './shared.js';

interface UpdateFlags {
  memory?: number;
  memoryReservation?: number;
  memorySwap?: number;
  cpus?: number;
  cpuShares?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  pidsLimit?: number;
}

/** The CFS period `--cpus` is counted in, as Docker's. */
const CPUS_PERIOD = 100_000;

function cpus(text: string): number {
  const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!(value > 0)) throw new InvalidArgumentError('it must be a number of CPUs greater than 0, like 1.5');
  return value;
}

/** The flags as OCI linux.resources: only what was given. */
export function resourcesOf(flags: UpdateFlags): LinuxResources {
  const resources: LinuxResources = {};
  const memory = { limit: flags.memory, reservation: flags.memoryReservation, swap: flags.memorySwap };
  const period = flags.cpuPeriod ?? (flags.cpus === undefined ? undefined : CPUS_PERIOD);
  const quota = flags.cpuQuota ?? (flags.cpus === undefined ? undefined : Math.round(flags.cpus * CPUS_PERIOD));
  const cpu = { shares: flags.cpuShares, quota, period };
  const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  if (Object.values(memory).some((v) => v !== undefined)) resources.memory = defined(memory);
  if (Object.values(cpu).some((v) => v !== undefined)) resources.cpu = defined(cpu);
  if (flags.pidsLimit !== undefined) resources.pids = { limit: flags.pidsLimit };
  return resources;
}

export function updateCommand(program: Command): void {
  program
    .command('update <id>')
    .description("change a running container's resource limits")
    .option('-m, --memory <bytes>', 'memory limit (512m, 1g, ...)', bytes)
    .option('--memory-reservation <bytes>', 'memory soft limit', bytes)
    .option('--memory-swap <bytes>', 'memory plus swap limit', bytes)
    .option('--cpus <n>', `CPUs (a quota over a ${CPUS_PERIOD} us period)`, cpus)
    .option('--cpu-shares <n>', 'relative CPU weight', count)
    .option('--cpu-quota <us>', 'CPU time per period, in microseconds', count)
    .option('--cpu-period <us>', 'the CFS period, in microseconds', count)
    .option('--pids-limit <n>', 'most processes at once', count)
    .action(async (id: string, flags: UpdateFlags, command: Command) => {
      const resources = resourcesOf(flags);
      if (Object.keys(resources).length === 0) command.error('give at least one limit to change');
      await withBackend((b) => b.update(id, resources));
    });
}
