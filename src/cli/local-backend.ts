import type { Logger } from 'pino';
import { Supervisor, type SupervisorOptions } from '../supervisor.js';
import type { Backend } from './backend.js';
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
    create: (o) => sv.create(o),
    start: (id) => sv.start(id),
    exec: (id, o) => sv.exec(id, o),
    signal: (id, p, s) => sv.signal(id, p, s),
    pause: (id) => sv.pause(id),
    resume: (id) => sv.resume(id),
    delete: (id, o) => sv.delete(id, o),
    wait: (id, p) => sv.wait(id, p),
    list: async () => sv.list(),
    get: async (id) => sv.get(id),
    logs: (id, p) => sv.logs(id, p),
    events: (q) => sv.events(q),
    viewerUrl: async () => sv.viewerUrl,
    close: async () => {
      await stopServing?.();
      await sv.close({ leaveRunning: true });
    },
  };
}
