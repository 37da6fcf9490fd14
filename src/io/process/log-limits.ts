import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LogLimits } from '../../types.js';

/**
 * A container's log limits, where its monitors read them when they start a
 * process (`<dir>/log-limits`, "<maxBytes> <keep>"): with them, a monitor copies
 * its process's output to the log and rotates it (see berth-shim.c). Written at
 * create, like spec.json, before any process can start.
 */
export function writeLogLimits(dir: string, limits: LogLimits): void {
  writeFileSync(join(dir, 'log-limits'), `${limits.maxBytes} ${limits.keep}\n`, { mode: 0o600 });
}
