import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerDetail } from '../../types.js';
import type { Runtime } from '../runtime.js';
import type { Journal } from './journal.js';

export const RECOVERED = 'recovered from the container directory; the journal had no record of it';

export interface FoundContainer extends ContainerDetail {
  id: string;
}

/**
 * The containers the runtime recognises in the containers dir, by what it left
 * in each one. Directories it cannot read are not among them; restore
 * quarantines those.
 */
export function findContainers(runtime: Runtime, containersDir: string): FoundContainer[] {
  return readdirSync(containersDir).flatMap((id) => {
    const dir = join(containersDir, id);
    const spec = runtime.recoverSpec(dir);
    if (!spec) return [];
    const { birthtime, mtime } = statSync(dir);
    // Labels are not kept on disk: they come back empty.
    return [{ id, spec, labels: {}, createdAt: birthtime.getTime() > 0 ? birthtime : mtime }];
  });
}

/**
 * Rebuilds a lost registry: every container found is journaled as created,
 * with `reason` saying so. Its processes, their starts and exits, are then
 * found by the runtime's restore from their records, as after any crash.
 */
export async function journalRecovered(journal: Journal, found: readonly FoundContainer[]): Promise<void> {
  for (const { id, ...detail } of found) journal.append({ type: 'create', id, reason: RECOVERED }, detail);
  await new Promise<void>((done) => journal.whenCommitted(done));
}
