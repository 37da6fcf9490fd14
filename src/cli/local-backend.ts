import { Supervisor, type SupervisorOptions } from '../supervisor.js';
import type { Backend } from './backend.js';

/**
 * Daemonless: the command opens the state dir itself, as Podman does. Containers
 * outlive it (their shims keep them), and the next command's open re-adopts them
 * and journals whatever happened in between.
 */
export async function localBackend(options: SupervisorOptions): Promise<Backend> {
  const sv = await Supervisor.open(options);
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
    close: () => sv.close({ leaveRunning: true }),
  };
}
