import type { Logger } from 'pino';
import { Supervisor, type SupervisorOptions } from '../supervisor.js';
import { invoke, rpcMethods, type Backend } from './backend.js';
import { serveSocket } from './daemon.js';

/**
 * Daemonless: the command opens the state dir itself, as Podman does. Containers
 * outlive it (their shims keep them), and the next command's open re-adopts them
 * and journals whatever happened in between.
 *
 * A command that runs until interrupted (`events --follow`, `viewer`) holds the
 * state dir all that time, so it also serves it on the socket, as `berth daemon`
 * does: other commands meanwhile go through it instead of being locked out.
 */
export async function localBackend(options: SupervisorOptions & { logger: Logger }, serve = false): Promise<Backend> {
  const sv = await Supervisor.open(options);
  let stopServing: (() => Promise<void>) | undefined;
  try {
    if (serve) stopServing = await serveSocket(sv, options.logger);
  } catch (err) {
    await sv.close({ leaveRunning: true });
    throw err;
  }
  return {
    ...rpcMethods((method, args) => invoke(sv, method, args)),
    events: (q) => sv.events(q),
    close: async () => {
      await stopServing?.();
      await sv.close({ leaveRunning: true });
    },
  };
}
