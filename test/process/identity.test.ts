import { execFile } from 'node:child_process';
import { chownSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { RLIM_INFINITY, type Supervisor } from '../../src/index.js';
import { brief, openSupervisor, storedEvents, tempDir } from '../helpers.js';

const isRoot = process.getuid?.() === 0;
const NOBODY = 65_534;

/** A uid and gid no other process on the machine uses, so RLIMIT_NPROC counts this test's processes alone. */
const freshId = () => 200_000 + Math.floor(Math.random() * 1_000_000);

/** Live and zombie processes whose real uid is `uid`. */
function processesOf(uid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) === uid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function output(sv: Supervisor, id: string, processId = 'init'): Promise<string[]> {
  expect((await sv.wait(id, processId)).status).toBe(0);
  return (await sv.logs(id, processId)).trim().split('\n');
}

describe.skipIf(!isRoot)('process runtime: process.user (root supervisor)', () => {
  it('init runs as the given uid, gid and supplementary groups; an exec as its container\'s user unless it names its own', async () => {
    const sv = await openSupervisor();
    const user = { uid: 4_321, gid: 4_322, additionalGids: [4_323, 4_324] };
    await sv.create({ id: 'c', process: { args: ['sh', '-c', 'id -u; id -g; id -G; exec sleep 30'], user } });
    await sv.start('c');
    await sv.exec('c', { execId: 'same', args: ['sh', '-c', 'id -u; id -g; id -G'] });
    await sv.exec('c', { execId: 'own', args: ['sh', '-c', 'id -u; id -g; id -G'], user: { uid: 99, gid: 98 } });
    expect(await output(sv, 'c', 'same')).toEqual(['4321', '4322', '4322 4323 4324']);
    expect(await output(sv, 'c', 'own')).toEqual(['99', '98', '98']);
    await sv.signal('c', 'init', 'SIGKILL');
    await sv.wait('c');
    expect((await sv.logs('c')).trim().split('\n')).toEqual(['4321', '4322', '4322 4323 4324']);
  }, 30_000);

  it('no supplementary groups unless given: root\'s are not kept', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 'c', process: { args: ['sh', '-c', "id -G; awk '/^Groups:/ { print NF - 1 }' /proc/self/status"], user: { uid: 4_321, gid: 4_322 } } });
    await sv.start('c');
    expect(await output(sv, 'c')).toEqual(['4322', '0']);
  }, 30_000);

  it('the monitor stays root: a job run as another user cannot stop or kill it, and its exit is recorded', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 'c', process: { args: ['sh', '-c', 'kill -STOP $PPID || kill -KILL $PPID || exit 7'], user: { uid: NOBODY, gid: NOBODY } } });
    await sv.start('c');
    expect(await sv.wait('c')).toMatchObject({ status: 7 });
  }, 30_000);

  it('a program the user may not run fails the start with the reason: nothing runs as root instead', async () => {
    const sv = await openSupervisor();
    const dir = tempDir(); // root's, 0700: uid 4321 may not reach what is in it
    const program = join(dir, 'program');
    writeFileSync(program, '#!/bin/sh\necho ran\n', { mode: 0o755 });
    await sv.create({ id: 'c', process: { args: [program], user: { uid: 4_321, gid: 4_321 } } });
    await expect(sv.start('c')).rejects.toMatchObject({ code: 'runtime-error', message: 'cannot start init of c: Permission denied' });
    expect(sv.get('c').status).toBe('created');
    expect(readFileSync(join(sv.stateDir, 'containers', 'c', 'init.log'), 'utf8')).toBe('');
  }, 30_000);
});

describe('process runtime: process.rlimits', () => {
  it('are set before the program starts: ulimit shows them, an exec has its container\'s unless it names its own', async () => {
    const sv = await openSupervisor();
    const rlimits = [
      { type: 'RLIMIT_NOFILE' as const, soft: 123, hard: 456 },
      { type: 'RLIMIT_CORE' as const, soft: 0, hard: RLIM_INFINITY },
    ];
    await sv.create({ id: 'c', process: { args: ['sh', '-c', 'ulimit -n; ulimit -Hn; ulimit -Hc; exec sleep 30'], rlimits } });
    await sv.start('c');
    await sv.exec('c', { execId: 'same', args: ['sh', '-c', 'ulimit -n; ulimit -Hn'] });
    await sv.exec('c', { execId: 'own', args: ['sh', '-c', 'ulimit -n; ulimit -Hn'], rlimits: [{ type: 'RLIMIT_NOFILE', soft: 77, hard: 88 }] });
    expect(await output(sv, 'c', 'same')).toEqual(['123', '456']);
    expect(await output(sv, 'c', 'own')).toEqual(['77', '88']);
    await sv.signal('c', 'init', 'SIGKILL');
    await sv.wait('c');
    expect((await sv.logs('c')).trim().split('\n')).toEqual(['123', '456', 'unlimited']);
  }, 30_000);

  it('a soft limit above its hard one is refused at create, leaving nothing behind', async () => {
    const stateDir = tempDir();
    const sv = await openSupervisor({ stateDir });
    const create = sv.create({ id: 'c', process: { args: ['true'], rlimits: [{ type: 'RLIMIT_NOFILE', soft: 2_048, hard: 1_024 }] } });
    await expect(create).rejects.toMatchObject({ code: 'invalid-spec', message: expect.stringMatching(/soft limit of RLIMIT_NOFILE \(2048\) is above its hard limit \(1024\)/) });
    expect(sv.list()).toEqual([]);
    expect(existsSync(join(stateDir, 'containers', 'c'))).toBe(false);
    expect(await storedEvents(sv)).toEqual([]);
  });

  it.skipIf(!isRoot)('a limit the kernel refuses fails the start with a typed error; the container stays created, and can be deleted', async () => {
    const sv = await openSupervisor();
    const nrOpen = Number(readFileSync('/proc/sys/fs/nr_open', 'utf8'));
    await sv.create({ id: 'c', process: { args: ['sleep', '30'], rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1_024, hard: nrOpen + 1 }] } });
    await expect(sv.start('c')).rejects.toMatchObject({
      code: 'runtime-error',
      message: 'cannot start init of c: setrlimit RLIMIT_NOFILE: Operation not permitted',
    });
    expect(sv.get('c')).toMatchObject({ status: 'created', processes: [{ id: 'init', status: 'created' }] });
    expect(sv.get('c').pid).toBeUndefined();
    // An exec with such a limit fails alike, and the container runs on.
    await sv.create({ id: 'd', process: { args: ['sleep', '30'] } });
    await sv.start('d');
    await expect(sv.exec('d', { execId: 'e', args: ['true'], rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1, hard: nrOpen + 1 }] })).rejects.toMatchObject({
      code: 'runtime-error',
      message: expect.stringContaining('setrlimit RLIMIT_NOFILE'),
    });
    expect(sv.get('d').status).toBe('running');
    await sv.delete('c');
    expect(brief(await storedEvents(sv))).toEqual(['create', 'create', 'start-container:init', 'delete']);
  }, 30_000);

  it.skipIf(!isRoot)('RLIMIT_NPROC with a uid of its own holds a fork bomb to its limit, and the supervisor stays healthy', async () => {
    const sv = await openSupervisor();
    const uid = freshId();
    const nproc = { type: 'RLIMIT_NPROC' as const, soft: 8, hard: 8 };
    // Each bomb process forks another every 10 ms, forever; init itself stays out of it (exec sleep).
    const bomb = 'bomb() { while :; do bomb & sleep 0.01; done; }; bomb & exec sleep 60';
    await sv.create({ id: 'bomb', process: { args: ['sh', '-c', bomb], user: { uid, gid: uid }, rlimits: [nproc] } });
    await sv.start('bomb');
    let most = 0;
    for (const until = Date.now() + 2_000; Date.now() < until; await new Promise((done) => setTimeout(done, 10))) {
      most = Math.max(most, processesOf(uid).length);
    }
    expect(most).toBeLessThanOrEqual(8);
    expect(await sv.logs('bomb')).toMatch(/Cannot fork/); // the limit was reached, and held
    // Meanwhile the supervisor starts and reaps others as usual.
    await sv.create({ id: 'ok', process: { args: ['sh', '-c', 'echo fine'] } });
    await sv.start('ok');
    expect(await output(sv, 'ok')).toEqual(['fine']);
    await sv.delete('bomb', { force: true });
    await expect.poll(() => processesOf(uid), { timeout: 10_000 }).toEqual([]);
  }, 60_000);
});

describe.skipIf(!isRoot)('process runtime: user and rlimits across a restart', () => {
  const user = { uid: 4_321, gid: 4_322, additionalGids: [4_323] };
  const rlimits = [{ type: 'RLIMIT_NOFILE' as const, soft: 99, hard: 199 }, { type: 'RLIMIT_CORE' as const, soft: RLIM_INFINITY, hard: RLIM_INFINITY }];
  const report = 'id -u; id -g; id -G; ulimit -n; ulimit -Hn; ulimit -c';
  const expected = ['4321', '4322', '4322 4323', '99', '199', 'unlimited'];

  it('are kept in the journal and in spec.json: a container created before a restart, or recovered without its journal, starts with them', async () => {
    const stateDir = tempDir();
    const first = await openSupervisor({ stateDir });
    await first.create({ id: 'c', process: { args: ['sh', '-c', `${report}; exec sleep 30`], user, rlimits } });
    await first.create({ id: 'r', process: { args: ['sh', '-c', report], user, rlimits } });
    await first.close();

    const second = await openSupervisor({ stateDir });
    await second.start('c');
    await second.exec('c', { execId: 'e', args: ['sh', '-c', report] });
    expect(await output(second, 'c', 'e')).toEqual(expected);
    await second.close({ leaveRunning: true });

    for (const file of ['journal.db', 'journal.db-wal', 'journal.db-shm']) rmSync(join(stateDir, file), { force: true });
    const recovered = await openSupervisor({ stateDir, recover: true });
    await recovered.start('r');
    expect(await output(recovered, 'r')).toEqual(expected);
    await recovered.exec('c', { execId: 'after', args: ['sh', '-c', report] });
    expect(await output(recovered, 'c', 'after')).toEqual(expected);
  }, 60_000);
});

/** The built package, as a supervisor run by another user loads it. */
const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

/** What a supervisor running as nobody makes of user and rlimits, one JSON line per step. */
const AS_NOBODY = `
  import { Supervisor } from ${JSON.stringify(DIST)};
  const sv = await Supervisor.open({ stateDir: process.argv[1] });
  const outcome = (promise) => promise.then(() => 'ok', (err) => err.code + ': ' + err.message);
  const said = {};
  said.create = await outcome(sv.create({ id: 'c', process: { args: ['true'], user: { uid: 0, gid: 0 } } }));
  said.left = sv.list().length;
  await sv.create({ id: 'd', process: { args: ['sleep', '30'], rlimits: [{ type: 'RLIMIT_NOFILE', soft: 40, hard: 50 }] } });
  await sv.start('d');
  said.exec = await outcome(sv.exec('d', { execId: 'e', args: ['true'], user: { uid: ${NOBODY}, gid: ${NOBODY} } }));
  await sv.exec('d', { execId: 'n', args: ['sh', '-c', 'ulimit -n; ulimit -Hn'] });
  await sv.wait('d', 'n');
  said.ulimit = (await sv.logs('d', 'n')).trim();
  said.raise = await outcome(sv.exec('d', { execId: 'r', args: ['true'], rlimits: [{ type: 'RLIMIT_NOFILE', soft: 40, hard: 1000 }] }));
  await sv.close();
  console.log(JSON.stringify(said));
`;

describe.skipIf(!isRoot || !existsSync(DIST))('process runtime: a supervisor that is not root', () => {
  it('refuses user with unsupported at create and exec, before anything is written; rlimits it may set still hold', async () => {
    const stateDir = tempDir();
    chownSync(stateDir, NOBODY, NOBODY);
    // Run with a hard limit of 500 open files, which only root could raise.
    const { stdout } = await promisify(execFile)(
      'prlimit',
      ['--nofile=500:500', 'setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, '--input-type=module', '-e', AS_NOBODY, stateDir],
      { cwd: '/', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
    );
    const said = JSON.parse(stdout) as Record<string, unknown>;
    expect(said.create).toBe(`unsupported: process.user: running a process as another user needs a supervisor running as root; this one runs as uid ${NOBODY}`);
    expect(said.left).toBe(0);
    expect(said.exec).toMatch(/^unsupported: exec\.user: .* needs a supervisor running as root/);
    expect(said.ulimit).toBe('40\n50');
    expect(said.raise).toMatch(/^runtime-error: cannot start r of d: setrlimit RLIMIT_NOFILE: Operation not permitted$/);
  }, 60_000);
});
