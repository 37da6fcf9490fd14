import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { eventStream } from '../../src/io/journal/event-stream.js';
import { Journal } from '../../src/io/journal/journal.js';
import { tempDir } from '../helpers.js';

const CHILD = fileURLToPath(new URL('./journal-child.ts', import.meta.url));

const committed = (journal: Journal) => new Promise<void>((done) => journal.whenCommitted(done));

async function appendRows(journal: Journal, count: number): Promise<void> {
  for (let i = 0; i < count; i++) journal.append({ type: 'start-process', id: 'c', processId: `e${i}` });
  await committed(journal);
}

/** A journal of `rows` rows, closed cleanly, and a backup of it taken then. */
async function journalWithBackup(rows: number): Promise<{ dir: string; backup: string }> {
  const dir = tempDir();
  const journal = new Journal(join(dir, 'journal.db'), 0);
  await appendRows(journal, rows);
  journal.close();
  const backup = join(tempDir(), 'journal.db');
  copyFileSync(join(dir, 'journal.db'), backup);
  return { dir, backup };
}

/** What the README tells users to do with a damaged journal: put the backup in its place, without -wal and -shm. */
function putBack(backup: string, dir: string): void {
  for (const file of ['journal.db-wal', 'journal.db-shm']) rmSync(join(dir, file), { force: true });
  copyFileSync(backup, join(dir, 'journal.db'));
}

/** Appends `rows` rows in a child process that is SIGKILLed once they are committed. */
function crashAfter(dir: string, rows: number): Promise<void> {
  return new Promise((done) => execFile(process.execPath, ['--import', 'tsx', CHILD, join(dir, 'journal.db'), String(rows)], () => done()));
}

async function newRowsAfter(journal: Journal, seq: number): Promise<number[]> {
  return (await firstValueFrom(eventStream(journal, { after: seq, storedOnly: true }).pipe(toArray()))).map((e) => e.seq);
}

describe('a journal put back from a backup', () => {
  it('never hands out a seq again that was published after the backup, and says it is behind', async () => {
    const { dir, backup } = await journalWithBackup(3);
    const journal = new Journal(join(dir, 'journal.db'), 0);
    await appendRows(journal, 3);
    journal.close();

    putBack(backup, dir);
    const restored = new Journal(join(dir, 'journal.db'), 0);
    const next = restored.append({ type: 'oom', id: 'c' });
    await committed(restored);
    // A subscriber that saw seq 6 resumes with after: 6 and gets the new row.
    expect(await newRowsAfter(restored, 6)).toEqual([next.seq]);
    expect(next.seq).toBe(7);
    expect(restored.behind).toEqual({ journalSeq: 3, publishedSeq: 6, continuesAt: 7 });
    restored.close();
  });

  it('after a crash: an intact journal goes on without a gap, one put back from a backup above every seq handed out', async () => {
    const { dir, backup } = await journalWithBackup(3);
    await crashAfter(dir, 3);
    const copy = tempDir();
    cpSync(dir, copy, { recursive: true });

    const intact = new Journal(join(dir, 'journal.db'), 0);
    expect(intact.behind).toBeUndefined();
    expect(intact.append({ type: 'oom', id: 'c' }).seq).toBe(7);
    intact.close();

    putBack(backup, copy);
    const restored = new Journal(join(copy, 'journal.db'), 0);
    const next = restored.append({ type: 'oom', id: 'c' });
    await committed(restored);
    expect(next.seq).toBeGreaterThan(6);
    expect(restored.behind).toMatchObject({ journalSeq: 3, publishedSeq: 6, continuesAt: next.seq });
    restored.close();
  });

  it('reads the one-number mark an older berth wrote as the highest seq published', async () => {
    const { dir, backup } = await journalWithBackup(3);
    const journal = new Journal(join(dir, 'journal.db'), 0);
    await appendRows(journal, 3);
    journal.close();
    writeFileSync(join(dir, 'seq.mark'), `${'6'.padStart(20, '0')}\n`);

    putBack(backup, dir);
    const restored = new Journal(join(dir, 'journal.db'), 0);
    expect(restored.append({ type: 'oom', id: 'c' }).seq).toBe(7);
    restored.close();
  });
});
