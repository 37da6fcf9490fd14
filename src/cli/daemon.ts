import { chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { withoutToken } from '../io/inspect/relay-access.js';
import { Supervisor, type SupervisorOptions } from '../supervisor.js';
import { apiServer } from './api/server.js';
import { serveMetrics, type MetricsAddress } from './metrics-server.js';
import { SOCKET_NAME } from './socket-name.js';

/**
 * `berth daemon`: one supervisor kept open, serving the CLI over a unix socket in
 * the state dir. On SIGTERM or SIGINT it closes and leaves the containers
 * running, as containerd did.
 */
export async function runDaemon(options: SupervisorOptions, logger: Logger, metricsAddress?: MetricsAddress): Promise<() => Promise<void>> {
  // The daemon is its process's only supervisor: its endpoint serves the process's own metrics too.
  const sv = await Supervisor.open({ ...options, ...(metricsAddress ? { metrics: { processMetrics: true } } : {}) });
  let stopMetrics: (() => Promise<void>) | undefined;
  let stopServing: () => Promise<void>;
  try {
    if (metricsAddress) stopMetrics = await serveMetrics(sv, metricsAddress, logger);
    stopServing = await serveSocket(sv, logger);
  } catch (err) {
    await stopMetrics?.();
    await sv.close({ leaveRunning: true });
    throw err;
  }
  logger.info({ viewer: sv.viewerUrl && withoutToken(sv.viewerUrl) }, 'berth daemon ready'); // `berth viewer` gives it whole
  return async () => {
    await stopMetrics?.();
    await stopServing();
    await sv.close({ leaveRunning: true });
  };
}

/**
 * Serves an open supervisor's HTTP API (api/server.ts) over `<state-dir>/berth.sock`,
 * which only its owner may use (mode 0600), until the returned function is called.
 */
export async function serveSocket(sv: Supervisor, logger: Logger): Promise<() => Promise<void>> {
  const socketPath = join(sv.stateDir, SOCKET_NAME);
  rmSync(socketPath, { force: true }); // a dead daemon's socket: we hold the lock now
  const server = apiServer(sv);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // No window for other users between listen and chmod, and no process-wide umask to change
  // meanwhile: open() has made the state dir 0700 and the current user's, so no one else can reach the socket.
  try {
    chmodSync(socketPath, 0o600);
  } catch (err) {
    server.close();
    throw err;
  }
  // Accept failures (EMFILE under a connection flood) are the daemon's to survive, not to crash on.
  server.on('error', (err) => logger.error({ err }, 'accepting a connection failed'));
  logger.info({ socket: socketPath }, 'serving the state dir');

  return async () => {
    server.close();
    server.closeAllConnections(); // event and log streams too
    rmSync(socketPath, { force: true });
  };
}
