import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PRIVATE_DIR } from './state-dir.js';

/** Moves a directory to <stateDir>/quarantine/<name>-<ms>: kept as evidence, never deleted. */
export function moveAside(containersDir: string, dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const aside = join(containersDir, '..', 'quarantine');
  mkdirSync(aside, { recursive: true, mode: PRIVATE_DIR });
  const movedTo = join(aside, `${basename(dir)}-${Date.now()}`);
  renameSync(dir, movedTo);
  return movedTo;
}

/** Moves aside every container directory the registry does not know. */
export function quarantineUnknown(containersDir: string, known: ReadonlySet<string>): { id: string; movedTo: string }[] {
  return readdirSync(containersDir)
    .filter((id) => !known.has(id))
    .map((id) => ({ id, movedTo: moveAside(containersDir, join(containersDir, id))! }));
}
