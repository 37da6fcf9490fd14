import type { Logger } from 'pino';

/**
 * The logger of a command that opens the state dir itself, or of the daemon.
 * Loaded only then: a command served by a daemon logs nothing and needs neither pino nor pino-pretty.
 */
export async function logger(level: string): Promise<Logger> {
  const { pino } = await import('pino');
  if (!process.stderr.isTTY) return pino({ level }, pino.destination(2));
  // Pretty and synchronous on a terminal (no worker thread to outlive the command).
  const { default: pretty } = await import('pino-pretty');
  return pino({ level }, pretty({ destination: 2, sync: true }));
}
