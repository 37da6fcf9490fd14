import { chmodSync, mkdirSync, readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../../errors.js';

/** Owner only: a job's env (tokens) is in spec.json and the journal, its output in the logs. */
export const PRIVATE_DIR = 0o700;
export const PRIVATE_FILE = 0o600;
const GROUP_OTHER = 0o077;

/**
 * Creates the state dir owner-only, or tightens one an older berth left open
 * (0755). Once the dir is 0700 nothing in it is reachable by others, whatever
 * its files' modes. A dir that may not be berth's alone (another user's, a
 * sticky one like /tmp, or one with content but no journal) is refused rather
 * than changed under its owner.
 */
export function prepareStateDir(stateDir: string, journalFile: string): void {
  mkdirSync(stateDir, { recursive: true, mode: PRIVATE_DIR });
  const info = statSync(stateDir);
  if ((info.mode & GROUP_OTHER) !== 0) {
    const ours = info.uid === process.getuid?.() && (info.mode & 0o1000) === 0;
    const names = readdirSync(stateDir);
    const berths = names.length === 0 || names.includes(journalFile);
    if (!ours || !berths) {
      throw new BerthError(
        'invalid-spec',
        `state dir ${stateDir} is open to other users (mode ${(info.mode & 0o7777).toString(8)}) and is not berth's alone: chmod 700 it, or give berth a dir of its own`,
      );
    }
    chmodSync(stateDir, PRIVATE_DIR);
  }
  mkdirSync(join(stateDir, 'containers'), { mode: PRIVATE_DIR, recursive: true });
  // An older berth left its journal 0644; the journal creates a new one 0600 itself (and SQLite gives -wal and -shm its mode).
  for (const file of [journalFile, `${journalFile}-wal`, `${journalFile}-shm`]) {
    const info = statIfPresent(join(stateDir, file));
    if (info?.isFile() && (info.mode & GROUP_OTHER) !== 0) chmodSync(join(stateDir, file), PRIVATE_FILE);
  }
}

function statIfPresent(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
