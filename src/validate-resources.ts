import type { LinuxResources } from './types.js';
import { integerIn, optionsObject, osString } from './validate.js';

const BYTES = Number.MAX_SAFE_INTEGER;

/** A section of resources (memory, cpu, ...): a plain object when given. */
function section(resources: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  return resources[key] === undefined ? undefined : optionsObject(resources[key], `resources.${key}`, true);
}

function optionalInteger(fields: Record<string, unknown> | undefined, key: string, what: string, min: number, max: number): void {
  if (fields?.[key] !== undefined) integerIn(fields[key], `${what}.${key}`, min, max);
}

/**
 * OCI linux.resources as `create` and `update` take them: the fields berth knows
 * are checked (-1 means no limit, as in OCI); others pass through to runc.
 * Returned as a copy, so later changes by the caller cannot reach berth.
 */
export function validateResources(value: unknown): LinuxResources {
  const resources = optionsObject(value, 'resources', true);
  const memory = section(resources, 'memory');
  for (const key of ['limit', 'reservation', 'swap', 'kernel']) optionalInteger(memory, key, 'resources.memory', -1, BYTES);
  const pids = section(resources, 'pids');
  if (pids) integerIn(pids.limit, 'resources.pids.limit', -1, BYTES);
  const cpu = section(resources, 'cpu');
  optionalInteger(cpu, 'shares', 'resources.cpu', 2, 262_144);
  optionalInteger(cpu, 'quota', 'resources.cpu', -1, BYTES);
  optionalInteger(cpu, 'period', 'resources.cpu', 1_000, 1_000_000);
  for (const key of ['cpus', 'mems']) if (cpu?.[key] !== undefined) osString(cpu[key], `resources.cpu.${key}`);
  return JSON.parse(JSON.stringify(resources)) as LinuxResources;
}
