/**
 * Takes a state dir's lock in a process of its own, for the lock tests:
 *
 *   node --import tsx test/journal/lock-child.ts <stateDir> [<go file>]
 *
 * Waits until <go file> exists (so that many children try at the same moment),
 * then prints `HELD` or `LOCKED <message>`, and keeps what it got until killed.
 */
import { existsSync } from 'node:fs';
import { isBerthError } from '../../src/errors.js';
import { StateLock } from '../../src/io/os/state-lock.js';

const [stateDir, go] = process.argv.slice(2) as [string, string?];
const pause = new Int32Array(new SharedArrayBuffer(4));
process.stdout.write('READY\n');
while (go !== undefined && !existsSync(go)) Atomics.wait(pause, 0, 0, 1);
try {
  StateLock.acquire(stateDir);
  process.stdout.write('HELD\n');
} catch (err) {
  if (!isBerthError(err, 'locked')) throw err;
  process.stdout.write(`LOCKED ${err.message}\n`);
}
setInterval(() => {}, 60_000);
