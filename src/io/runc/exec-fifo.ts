import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../../errors.js';
import { DEFAULT_SHIM_PATH, type ShimClient } from '../process/shim-client.js';
import type { MonitorRecord } from './monitor-records.js';

/**
 * runc's exec fifo of a created container (`<runc root>/<id>/exec.fifo`), on
 * which its `runc init` waits to exec the container's process; undefined when
 * there is none to be found (another runtime, a runc root elsewhere, or a
 * container already started): then `runc start` is the way.
 */
export function execFifo(runcRoot: string, id: string): string | undefined {
  const path = join(runcRoot, id, 'exec.fifo');
  try {
    return lstatSync(path).isFIFO() ? path : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts a created container through its exec fifo, as `runc start` does but
 * some tens of milliseconds sooner: berth-shim's `start-created` (berth-shim.c)
 * opens the fifo, waits for the process's exec and removes the fifo. It runs
 * outside the supervisor, launched by the zygote, so a supervisor that dies
 * meanwhile leaves the start to finish, as with `runc start`; restore then asks
 * runc, which tells a started container by its fifo being gone.
 */
export async function startThroughFifo(shim: ShimClient, fifo: string, init: MonitorRecord, timeoutMs: number): Promise<void> {
  const { pid: initPid, startTime } = init;
  let said: string;
  try {
    said = await shim.launchSynced([DEFAULT_SHIM_PATH, 'start-created', fifo, String(initPid), String(Math.max(startTime, 0))], { _OCI_SYNCPIPE: '3' }, '/', timeoutMs);
  } catch (err) {
    throw new BerthError('runtime-error', `starting through runc's exec fifo: ${(err as Error).message}`);
  }
  const message = parsed(said);
  if (message?.data === initPid) return;
  const why = typeof message?.message === 'string' ? message.message : `berth-shim said ${JSON.stringify(said.slice(0, 200))}`;
  throw new BerthError('runtime-error', `starting through runc's exec fifo: ${why}`);
}

function parsed(text: string): { data?: unknown; message?: unknown } | undefined {
  try {
    return JSON.parse(text) as { data?: unknown; message?: unknown };
  } catch {
    return undefined;
  }
}
