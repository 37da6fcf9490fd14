import { isBerthError } from '../errors.js';

/** The first wait between attempts, doubled after each up to the longest. */
const FIRST_WAIT_MS = 200;
const LONGEST_WAIT_MS = 5_000;

/**
 * Tries `connect` until it gives something, however long that takes, waiting
 * longer after each failure (up to 5 s), and says on stderr that it waits: a
 * follower rides out a daemon restart of any length. Gives undefined once
 * `stopped()` (the command was interrupted).
 */
export async function untilConnected<T>(connect: () => Promise<T | undefined>, what: string, stopped: () => boolean): Promise<T | undefined> {
  let wait = FIRST_WAIT_MS;
  let told = false;
  for (;;) {
    if (stopped()) return undefined;
    const connected = await connect().catch(() => undefined);
    if (connected !== undefined) {
      if (told) process.stderr.write(`berth: ${what} is back; carrying on\n`);
      return connected;
    }
    if (!told) process.stderr.write(`berth: ${what} went away; waiting for it to come back (Ctrl-C to stop)\n`);
    told = true;
    await new Promise((done) => setTimeout(done, wait));
    wait = Math.min(wait * 2, LONGEST_WAIT_MS);
  }
}

/** Whether a call failed because the daemon serving it went away (or was closing), not because of what it asked. */
export const daemonWentAway = (err: unknown) => isBerthError(err, 'closed');
