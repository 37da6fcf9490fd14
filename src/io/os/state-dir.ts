import { chmodSync, lstatSync, mkdirSync, readdirSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../../errors.js';

/** Owner only: a job's env (tokens) is in spec.json and the journal, its output in the logs. */
export const PRIVATE_DIR = 0o700;
export const PRIVATE_FILE = 0o600;
const GROUP_OTHER = 0o077;

/**
 * Creates the state dir owner-only, or tightens one an older berth left open
 * (0755). Once the dir is 0700 nothing in it is reachable by others, whatever
 * its files' modes. Another user's dir, or a symlink, is refused whatever its
 * mode; an open one that may not be berth's alone (a sticky one like /tmp, or
 * one with content but no journal) is refused rather than changed under its owner.
 */
export function prepareStateDir(stateDir: string, journalFile: string): void {
  mkdirSync(stateDir, { recursive: true, mode: PRIVATE_DIR });
  const info = ownDir(stateDir, 'state dir');
  if ((info.mode & GROUP_OTHER) !== 0) {
    const sticky = (info.mode & 0o1000) !== 0;
    const names = readdirSync(stateDir);
    const berths = names.length === 0 || names.includes(journalFile);
    if (sticky || !berths) {
      throw new BerthError(
        'invalid-spec',
        `state dir ${stateDir} is open to other users (mode ${(info.mode & 0o7777).toString(8)}) and is not berth's alone: chmod 700 it, or give berth a dir of its own`,
      );
    }
    chmodSync(stateDir, PRIVATE_DIR);
  }
  mkdirSync(join(stateDir, 'containers'), { mode: PRIVATE_DIR, recursive: true });
  ownDir(join(stateDir, 'containers'), 'containers dir');
  // An older berth left its journal 0644; the journal creates a new one 0600 itself (and SQLite gives -wal and -shm its mode).
  for (const file of [journalFile, `${journalFile}-wal`, `${journalFile}-shm`]) {
    const info = statIfPresent(join(stateDir, file));
    if (info?.isFile() && (info.mode & GROUP_OTHER) !== 0) chmodSync(join(stateDir, file), PRIVATE_FILE);
  }
}

/**
 * A dir berth may write into as the current user (as root, too): its own, and
 * not a symlink. Another user's dir, even 0700, lets its owner swap what is in
 * it (containers/ for a symlink) under a supervisor that trusts it.
 */
function ownDir(path: string, what: string): Stats {
  const info = lstatSync(path);
  const uid = process.getuid?.();
  const refuse = (why: string) => new BerthError('invalid-spec', `${what} ${path} ${why}: give berth a dir of its own`);
  if (info.isSymbolicLink()) throw refuse(`is a symlink (to ${readlinkSync(path)})`);
  if (uid !== undefined && info.uid !== uid) throw refuse(`belongs to uid ${info.uid}, not to this user (uid ${uid})`);
  return info;
}

function statIfPresent(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
