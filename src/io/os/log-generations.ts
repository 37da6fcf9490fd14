import { existsSync, readdirSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { readIfPresent } from './os-process.js';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * A bounded log is a run of files, its generations: the current one at
 * `<proc>.log`, and the rotated ones at `<proc>.log.<start>`, each named by its
 * start, the total offset of its first byte (bytes written to the log before it,
 * since the process started). Total offsets only grow, so a reader's position
 * in a log survives any number of rotations, and a file that names a position
 * no longer kept is known to be gone.
 *
 * Rotation renames the current file to its start and then opens a fresh one:
 * the current file begins where the newest rotated one ends, and a file is
 * complete once a later one exists. The newest rotated file is never removed
 * (keep ≥ 1), so the current file's start can always be told.
 */
export interface Generation {
  path: string;
  /** Total offset of the file's first byte. */
  start: number;
  /** Its inode when listed: the same path may name a newer file by the time it is opened. */
  ino: number;
  size: number;
}

const rotatedName = (path: string, start: number) => `${path}.${start}`;

/** The rotated generations of `path` as `[start, file]`, oldest first. */
function rotatedStarts(names: string[], path: string): [number, string][] {
  const prefix = `${basename(path)}.`;
  return names
    .filter((name) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)))
    .map((name): [number, string] => [Number(name.slice(prefix.length)), join(dirname(path), name)])
    .sort((a, b) => a[0] - b[0]);
}

const statIfPresent = (path: string) => stat(path).catch(() => undefined);

/**
 * The log's generations as they are on disk, oldest first (empty if nothing was
 * written yet). Listed twice around the stats: a rotation in between makes the
 * lists differ and the look is taken again, so the starts are always consistent.
 */
export async function generations(path: string): Promise<Generation[]> {
  for (;;) {
    const before = await readdir(dirname(path)).catch(() => []);
    const rotated = rotatedStarts(before, path);
    const found: Generation[] = [];
    for (const [start, file] of rotated) {
      const info = await statIfPresent(file);
      if (info) found.push({ path: file, start, ino: info.ino, size: info.size });
    }
    const current = await statIfPresent(path);
    const newest = found.at(-1);
    if (current) found.push({ path, start: newest ? newest.start + newest.size : 0, ino: current.ino, size: current.size });
    const after = await readdir(dirname(path)).catch(() => []);
    if (rotatedStarts(after, path).map(([start]) => start).join() === rotated.map(([start]) => start).join()) return found;
  }
}

/** Total offset just past the log's last byte, and of its oldest kept byte. */
export function extent(found: Generation[]): { oldest: number; end: number } {
  const last = found.at(-1);
  return { oldest: found[0]?.start ?? 0, end: last ? last.start + last.size : 0 };
}

/** Opens a generation if its path still names the same file; undefined if it was rotated or removed meanwhile. */
export async function openGeneration(generation: Generation): Promise<FileHandle | undefined> {
  const file = await open(generation.path, 'r').catch(() => undefined);
  if (!file) return undefined;
  if ((await file.stat()).ino === generation.ino) return file;
  await file.close();
  return undefined;
}

/**
 * Rotates a log written by someone else (conmon, told to reopen it by
 * `reopen`): the current file is renamed to its start. Synchronous: a rotation
 * is a rename and a write.
 */
export function rotateLog(path: string, reopen: () => void): void {
  const newest = rotatedStarts(readdirSync(dirname(path)), path).at(-1);
  const start = newest ? newest[0] + statSync(newest[1]).size : 0;
  renameSync(path, rotatedName(path, start));
  reopen();
}

/**
 * The lowest total offset a live follower still needs, from the hold files
 * followers keep (`<log>.hold-<pid>-<n>`, see process-log.ts); holds of
 * processes that are gone are removed. berth-shim.c reads them the same way.
 */
function lowestHold(path: string): number | undefined {
  const prefix = `${basename(path)}.hold-`;
  let lowest: number | undefined;
  for (const name of readdirSync(dirname(path))) {
    if (!name.startsWith(prefix)) continue;
    const file = join(dirname(path), name);
    const reader = Number.parseInt(name.slice(prefix.length), 10);
    if (!processExists(reader)) {
      rmSync(file, { force: true });
      continue;
    }
    const needed = Number.parseInt(readIfPresent(file) ?? '', 10) || 0; // 0 (all of it) while it is being rewritten
    lowest = Math.min(lowest ?? needed, needed);
  }
  return lowest;
}

function processExists(pid: number): boolean {
  if (!(pid > 0)) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Removes the rotated files beyond the newest `keep`, unless a live follower
 * still needs one and `holdsCount` (the writer's patience with it is not over):
 * then nothing is removed, and false says to try again.
 */
export function pruneRotated(path: string, keep: number, holdsCount: (lowest: number) => boolean): boolean {
  const rotated = rotatedStarts(readdirSync(dirname(path)), path);
  const doomed = rotated.slice(0, Math.max(0, rotated.length - keep));
  if (doomed.length === 0) return true;
  const hold = lowestHold(path);
  // The newest doomed file ends where the oldest kept one starts.
  if (hold !== undefined && hold < rotated[doomed.length]![0] && holdsCount(hold)) return false;
  for (const [, file] of doomed) unlinkSync(file);
  return true;
}

/** Total offset of the oldest byte the log keeps (0 if it has not been rotated, or does not exist yet). */
export function oldestKept(path: string): number {
  const names = existsSync(dirname(path)) ? readdirSync(dirname(path)) : [];
  return rotatedStarts(names, path)[0]?.[0] ?? 0;
}

/** Whether the log's current file is missing while rotated ones exist: renamed away, its writer not yet told to reopen. */
export function awaitingReopen(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false }) === undefined && rotatedStarts(readdirSync(dirname(path)), path).length > 0;
}

/** Whether a directory entry's name is one of this log's files (for a watcher of its directory). */
export function isLogFile(path: string, name: string | null): boolean {
  const base = basename(path);
  return name === base || (name?.startsWith(`${base}.`) ?? false);
}
