import type { Logger } from 'pino';

/**
 * Runs the work of a timer or a file watcher: what it cannot do is logged (and
 * tried again at its next turn), never thrown where nothing could catch it.
 */
export function guarded(logger: Logger, what: string, work: () => void): void {
  try {
    work();
  } catch (err) {
    logger.error({ err }, `${what} failed`);
  }
}
