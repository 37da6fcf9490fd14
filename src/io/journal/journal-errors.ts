import { BerthError } from '../../errors.js';

/**
 * What a failure to open, read or write the journal means to the user: a
 * `BerthError` that names the file and what to do, never a raw SqliteError.
 */
export function journalError(err: unknown, path: string): BerthError {
  if (err instanceof BerthError) return err;
  const code = (err as { code?: unknown }).code;
  const why = err instanceof Error ? err.message : String(err);
  if (code === 'SQLITE_FULL' || code === 'ENOSPC') {
    return new BerthError('disk-full', `the disk holding journal ${path} is full (${why}): free space there; what happened meanwhile is kept in memory and journaled once it can be`, { cause: err });
  }
  if (typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')) return damaged(path, why, err);
  return new BerthError('runtime-error', `journal ${path} cannot be opened or written (${why}): the state dir must be a writable directory and the journal a writable file`, { cause: err });
}

export function damaged(path: string, why: string, cause?: unknown): BerthError {
  return new BerthError(
    'journal-corrupt',
    `journal ${path} is damaged (${why}): restore it (with its -wal and -shm files) from a backup, or move all three aside and open with { recover: true } to rebuild the registry from the container directories`,
    { cause },
  );
}
