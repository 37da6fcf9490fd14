import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BerthError, type Supervisor } from '../../src/index.js';
import { openSupervisor, tempDir } from '../helpers.js';
import { busyboxBundle, canRunContainers } from '../support/busybox-bundle.js';

const runc = it.skipIf(!canRunContainers() && !process.env.CI);
const asRoot = it.skipIf(process.getuid?.() !== 0);

async function refusal(stateDir: string): Promise<unknown> {
  return openSupervisor({ stateDir }).then(() => new Error('opened'), (err: unknown) => err);
}

/** Every entry under `dir` (symlinks aside: their mode means nothing) that group or others could use. */
function openToOthers(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const info = lstatSync(join(dir, entry), { throwIfNoEntry: false });
    if (info && !info.isSymbolicLink() && (info.mode & 0o077) !== 0) found.push(`${entry} ${(info.mode & 0o777).toString(8)}`);
  }
  if ((statSync(dir).mode & 0o077) !== 0) found.push('. (the state dir)');
  return found;
}

/** create, start, an exec that writes, both exits: every kind of file berth and its monitors leave. */
async function lifecycle(sv: Supervisor, id: string, spec: { bundle: string } | { process: { args: string[] } }): Promise<string[]> {
  await sv.create({ id, ...spec });
  await sv.start(id);
  await sv.exec(id, { execId: 'e', args: ['sh', '-c', 'echo secret; echo oops >&2'], env: { API_TOKEN: 'hunter2' } });
  expect((await sv.wait(id, 'e')).status).toBe(0);
  const whileRunning = openToOthers(sv.stateDir);
  await sv.signal(id, 'init', 'SIGKILL');
  await sv.wait(id);
  return [...whileRunning, ...openToOthers(sv.stateDir)];
}

describe('state files are the owner\'s alone', () => {
  // The test means something only if the umask alone would leave files open to others.
  expect(process.umask() & 0o077).not.toBe(0o077);

  it('process runtime: the state dir, every dir in it 0700 and every file 0600', async () => {
    const sv = await openSupervisor();
    expect(await lifecycle(sv, 'c', { process: { args: ['sleep', '60'] } })).toEqual([]);
  });

  runc('runc runtime: the same, for bundle copies, conmon\'s logs and exit files, runc\'s state', async () => {
    const sv = await openSupervisor({ runtime: 'runc' });
    const bundle = busyboxBundle(tempDir('berth-bundle-'), 'c', { args: ['sleep', '60'] });
    expect(await lifecycle(sv, 'c', { bundle })).toEqual([]);
  });

  it('a process keeps the umask berth runs with: the files it makes are its own business', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 'm', process: { args: ['sh', '-c', 'umask'] } });
    await sv.start('m');
    await sv.wait('m');
    expect(Number.parseInt((await sv.logs('m')).trim(), 8)).toBe(process.umask());
  });

  it('tightens a state dir an older berth left open to others', async () => {
    const stateDir = tempDir();
    chmodSync(stateDir, 0o755);
    writeFileSync(join(stateDir, 'journal.db'), '', { mode: 0o644 });
    chmodSync(join(stateDir, 'journal.db'), 0o644);
    const sv = await openSupervisor({ stateDir });
    expect(openToOthers(sv.stateDir)).toEqual([]);
  });

  it('refuses, unchanged, an open dir that may not be berth\'s alone', async () => {
    const shared = tempDir();
    writeFileSync(join(shared, 'notes.txt'), 'not berth\'s');
    const sticky = join(tempDir(), 'tmp-like');
    mkdirSync(sticky);
    for (const [dir, mode] of [[shared, 0o755], [sticky, 0o1777]] as const) {
      chmodSync(dir, mode);
      const err = await refusal(dir);
      expect(err).toBeInstanceOf(BerthError);
      expect(err).toMatchObject({ code: 'invalid-spec', message: expect.stringContaining('chmod 700') });
      expect(statSync(dir).mode & 0o7777).toBe(mode);
    }
  });

  asRoot('refuses a state dir, or its containers dir, that belongs to another user, even 0700', async () => {
    const theirs = tempDir();
    chownSync(theirs, 65534, 65534);
    expect(await refusal(theirs)).toMatchObject({ code: 'invalid-spec', message: expect.stringContaining('belongs to uid 65534, not to this user (uid 0)') });
    expect(readdirSync(theirs)).toEqual([]);

    const ours = tempDir();
    mkdirSync(join(ours, 'containers'), { mode: 0o700 });
    chownSync(join(ours, 'containers'), 65534, 65534);
    expect(await refusal(ours)).toMatchObject({ code: 'invalid-spec', message: expect.stringContaining(`containers dir ${join(ours, 'containers')} belongs to uid 65534`) });
  });

  it('refuses a state dir, or its containers dir, that is a symlink', async () => {
    const target = tempDir();
    const link = join(tempDir(), 'state');
    symlinkSync(target, link);
    expect(await refusal(link)).toMatchObject({ code: 'invalid-spec', message: expect.stringContaining(`state dir ${link} is a symlink (to ${target})`) });

    const stateDir = tempDir();
    symlinkSync(target, join(stateDir, 'containers'));
    expect(await refusal(stateDir)).toMatchObject({ code: 'invalid-spec', message: expect.stringContaining('is a symlink') });
    expect(readdirSync(target)).toEqual([]);
  });
});
