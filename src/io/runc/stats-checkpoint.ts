import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../../errors.js';
import type { CheckpointOptions, ContainerStats } from '../../types.js';
import { parseJson, type RuncCli } from './runc-cli.js';

interface RuncStats {
  cpu?: { usage?: { total?: number; user?: number; kernel?: number; percpu?: number[] } };
  memory?: { usage?: { usage?: number; limit?: number; max?: number; failcnt?: number } };
  pids?: { current?: number; limit?: number };
}

/** A container's cgroup counters, from `runc events --stats`. */
export async function containerStats(runc: RuncCli, id: string): Promise<ContainerStats> {
  const raw = parseJson(await runc.run(['events', '--stats', id]), `runc events --stats ${id}`) as { data?: RuncStats } | null;
  const data = raw?.data ?? {};
  return {
    cpu: {
      totalNs: data.cpu?.usage?.total ?? 0,
      userNs: data.cpu?.usage?.user ?? 0,
      kernelNs: data.cpu?.usage?.kernel ?? 0,
      perCpuNs: data.cpu?.usage?.percpu ?? [],
    },
    memory: {
      usage: data.memory?.usage?.usage ?? 0,
      limit: data.memory?.usage?.limit ?? 0,
      max: data.memory?.usage?.max ?? 0,
      failcnt: data.memory?.usage?.failcnt ?? 0,
    },
    pids: { current: data.pids?.current ?? 0, limit: data.pids?.limit ?? 0 },
    raw,
  };
}

/** CRIU writes out the container's whole memory: far longer than any other runc call may take. */
const CHECKPOINT_TIMEOUT_MS = 10 * 60_000;

/** Checkpoints a container with `runc checkpoint` (CRIU) into `<checkpointsDir>/<id>/<name>` unless told where. */
export async function checkpointContainer(runc: RuncCli, checkpointsDir: string, id: string, options: CheckpointOptions): Promise<{ imagePath: string }> {
  const imagePath = options.imagePath ?? join(checkpointsDir, id, options.name);
  mkdirSync(imagePath, { recursive: true, mode: 0o700 });
  const args = ['checkpoint', '--image-path', imagePath, '--work-path', join(imagePath, 'criu.work')];
  if (options.leaveRunning) args.push('--leave-running');
  if (options.tcpEstablished) args.push('--tcp-established');
  if (options.unixSockets) args.push('--ext-unix-sk');
  if (options.shellJob) args.push('--shell-job');
  for (const ns of options.emptyNamespaces ?? []) args.push('--empty-ns', ns);
  try {
    await runc.run([...args, id], { timeoutMs: options.timeoutMs ?? CHECKPOINT_TIMEOUT_MS });
  } catch (err) {
    throw new BerthError('runtime-error', `checkpoint of ${id} failed (runc checkpoint uses criu): ${(err as Error).message}`);
  }
  return { imagePath };
}
