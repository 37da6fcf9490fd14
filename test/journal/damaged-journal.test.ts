import { execFileSync } from 'node:child_process';
import { mkdirSync, openSync, rmSync, statSync, truncateSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Supervisor } from '../../src/index.js';
import { brief, openSupervisor, storedEvents, tempDir } from '../helpers.js';

const isRoot = process.getuid?.() === 0;

/** A state dir whose journal has a few rows of history, closed cleanly. */
async function stateDirWithHistory(): Promise<string> {
  const stateDir = tempDir();
  const sv = await openSupervisor({ stateDir, retainCount: 0 });
  for (let i = 0; i < 40; i++) await sv.create({ id: `c${i}`, process: { args: ['true'] }, labels: { pad: 'x'.repeat(200) } });
  await sv.close();
  return stateDir;
}

function overwrite(path: string, offset: number, bytes: Buffer): void {
  const fd = openSync(path, 'r+');
  writeSync(fd, bytes, 0, bytes.length, offset);
  closeSync(fd);
}

async function openError(stateDir: string): Promise<unknown> {
  return Supervisor.open({ stateDir }).then(
    (sv) => sv.close().then(() => new Error('opened')),
    (err: unknown) => err,
  );
}

describe('opening a damaged journal', () => {
  const damages: [string, (db: string) => void][] = [
    ['truncated', (db) => truncateSync(db, Math.floor(statSync(db).size / 2))],
    ['overwritten with garbage', (db) => writeFileSync(db, 'not a database '.repeat(500))],
    ['with its header zeroed', (db) => overwrite(db, 0, Buffer.alloc(100))],
    ['with NUL bytes written into its pages', (db) => overwrite(db, 4096 * 3, Buffer.alloc(8192))],
  ];
  for (const [what, damage] of damages) {
    it(`refuses a journal ${what} with journal-corrupt, naming the file and what to do, and twice alike`, async () => {
      const stateDir = await stateDirWithHistory();
      const db = join(stateDir, 'journal.db');
      damage(db);
      const expected = { code: 'journal-corrupt', message: expect.stringMatching(new RegExp(`journal ${db} is damaged .*recover: true`)) };
      expect(await openError(stateDir)).toMatchObject(expected);
      // Nothing was started over in its place, and the lock was let go.
      expect(await openError(stateDir)).toMatchObject(expected);
    });
  }

  it('opens a journal whose -wal and -shm beside it are garbage, with its history', async () => {
    const stateDir = await stateDirWithHistory();
    writeFileSync(join(stateDir, 'journal.db-wal'), Buffer.alloc(40_000, 7));
    writeFileSync(join(stateDir, 'journal.db-shm'), Buffer.alloc(32_768, 7));
    const sv = await openSupervisor({ stateDir });
    expect(sv.lastSeq).toBe(40);
    expect(sv.list()).toHaveLength(40);
  });

  it('refuses a state dir that is a file with runtime-error naming it', async () => {
    const stateDir = join(tempDir(), 'file');
    writeFileSync(stateDir, '');
    expect(await openError(stateDir)).toMatchObject({ code: 'runtime-error', message: expect.stringContaining(`state dir ${stateDir} cannot be used`) });
  });

  it('refuses a journal that is a directory with runtime-error naming it', async () => {
    const stateDir = tempDir();
    mkdirSync(join(stateDir, 'journal.db'));
    expect(await openError(stateDir)).toMatchObject({ code: 'runtime-error', message: expect.stringContaining(`journal ${join(stateDir, 'journal.db')}`) });
  });

  it.skipIf(!isRoot)('refuses a read-only state dir with runtime-error, rather than opening and failing on the first write', async () => {
    const stateDir = await stateDirWithHistory();
    execFileSync('mount', ['--bind', stateDir, stateDir]);
    try {
      execFileSync('mount', ['-o', 'remount,ro,bind', stateDir]);
      expect(await openError(stateDir)).toMatchObject({ code: 'runtime-error', message: expect.stringContaining(stateDir) });
    } finally {
      execFileSync('umount', [stateDir]);
    }
  });
});

describe('a journal lost beside container directories', () => {
  it('is refused by default, and with recover: true the registry is rebuilt and seq goes on from where it was', async () => {
    const stateDir = tempDir();
    const first = await openSupervisor({ stateDir });
    await first.create({ id: 'done', process: { args: ['sh', '-c', 'exit 3'] } });
    await first.start('done');
    await first.wait('done');
    await first.create({ id: 'live', process: { args: ['sleep', '30'] } });
    const { pid } = await first.start('live');
    await first.exec('live', { execId: 'side', args: ['sleep', '30'] });
    await first.close({ leaveRunning: true });
    const lastSeen = first.lastSeq;
    for (const file of ['journal.db', 'journal.db-wal', 'journal.db-shm']) rmSync(join(stateDir, file), { force: true });

    expect(await openError(stateDir)).toMatchObject({ code: 'journal-missing', message: expect.stringContaining('recover: true') });

    const sv = await openSupervisor({ stateDir, recover: true });
    expect(sv.get('done').processes[0]).toMatchObject({ id: 'init', status: 'exited', exitStatus: 3 });
    expect(sv.get('live')).toMatchObject({ status: 'running', pid });
    const rows = await storedEvents(sv, { after: lastSeen });
    expect(rows[0]!.seq).toBeGreaterThan(lastSeen);
    expect(rows.filter((e) => e.id === 'done').map((e) => `${brief([e])[0]}`)).toEqual(['create', 'start-container:init', 'exit:init=3']);
    expect(rows.filter((e) => e.id === 'live').map((e) => `${brief([e])[0]}`)).toEqual(['create', 'start-container:init', 'start-process:side']);
    expect(rows.find((e) => e.type === 'create')!.reason).toMatch(/recovered/);
    // A subscriber resuming where it left off sees every rebuilt row.
    expect(rows.length).toBe(6);
  });

  it('never reuses a seq when the journal is emptied, even with no container left', async () => {
    const stateDir = tempDir();
    const first = await openSupervisor({ stateDir });
    await first.create({ id: 'a', process: { args: ['true'] } });
    await first.delete('a');
    await first.close();
    const lastSeen = first.lastSeq;
    rmSync(join(stateDir, 'journal.db'));
    const sv = await openSupervisor({ stateDir });
    expect(sv.lastSeq).toBe(lastSeen);
    await sv.create({ id: 'b', process: { args: ['true'] } });
    expect((await storedEvents(sv, { after: lastSeen })).map((e) => e.seq)).toEqual([lastSeen + 1]);
  });
});
