import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * prom-client's default metrics renamed by promtool's lint: gauges may not end in
 * `_total`. Their totals are the sums of `nodejs_active_handles` (and the like)
 * over its `type` label.
 */
const MISNAMED = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

let registry: Registry | undefined;

/**
 * The Node process's own metrics (CPU, memory, fds, event-loop lag, GC), in one
 * registry made the first time any supervisor asks for it and shared by all.
 * They describe the process, not a supervisor, and prom-client's collectors
 * (an event-loop delay monitor, a GC observer) are never torn down: collected
 * once per process, they cost nothing per open and cannot pile up.
 */
export function processMetrics(): Registry {
  if (registry) return registry;
  registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of MISNAMED) registry.removeSingleMetric(name);
  return registry;
}
