import { randomUUID } from 'node:crypto';
import { RLIM_INFINITY } from '../../types.js';

/** The largest uint64: OCI's RLIM_INFINITY, which JavaScript reads as 2^64. */
const UINT64_MAX = '18446744073709551615';

/**
 * OCI JSON for runc to read. A number JavaScript holds as 2^64 (OCI's
 * 18446744073709551615, an unlimited rlimit read from a config.json or given as
 * RLIM_INFINITY) is written back as that uint64: JSON.stringify's
 * 18446744073709552000 is more than runc's uint64 fields can hold.
 */
export function ociJson(value: unknown): string {
  const marker = `uint64-max-${randomUUID()}`;
  const text = JSON.stringify(value, (_, entry: unknown) => (entry === RLIM_INFINITY ? marker : entry));
  return text.replaceAll(JSON.stringify(marker), UINT64_MAX);
}
