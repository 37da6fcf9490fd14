import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { briefSince, openSupervisor, tempDir } from '../helpers.js';
import { busyboxBundle, canRunContainers } from '../support/busybox-bundle.js';
import { runUntilKilled } from '../support/crash.js';

const runc = describe.skipIf(!canRunContainers() && !process.env.CI);

/** A runc that logs each call's arguments to `calls`; with `root`, it keeps its containers there, whatever --root berth gives. */
function loggingRunc(root?: string): { runcPath: string; calls: () => string[] } {
  const dir = tempDir();
  const log = join(dir, 'calls');
  const runcPath = join(dir, 'runc');
  const reroot = root ? `if [ "$1" = --root ]; then shift 2; fi\nset -- --root ${root} "$@"\n` : '';
  writeFileSync(runcPath, `#!/bin/sh\n${reroot}echo "$*" >> ${log}\nexec runc "$@"\n`);
  chmodSync(runcPath, 0o755);
  return { runcPath, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []) };
}

const runcState = (root: string, id: string) =>
  JSON.parse(execFileSync('runc', ['--root', root, 'state', id], { encoding: 'utf8' })) as { status: string; pid: number };
const runcStatus = (root: string, id: string) => runcState(root, id).status;

runc("starting a created container through runc's exec fifo (runc runtime)", () => {
  it('starts it without a runc start: runc calls it running and its fifo is gone', async () => {
    const stateDir = tempDir();
    const { runcPath, calls } = loggingRunc();
    const sv = await openSupervisor({ stateDir, runtime: 'runc', runcPath });
    await sv.create({ id: 'c', bundle: busyboxBundle(tempDir(), 'c', { args: ['sleep', '60'] }) });
    const fifo = join(stateDir, 'runc', 'c', 'exec.fifo');
    expect(existsSync(fifo)).toBe(true);
    const { pid } = await sv.start('c');
    expect(pid).toBe(sv.get('c').pid);
    expect(existsSync(fifo)).toBe(false);
    expect(runcStatus(join(stateDir, 'runc'), 'c')).toBe('running');
    expect(calls().filter((call) => / start /.test(` ${call} `))).toEqual([]);
    await sv.signal('c', 'init', 'SIGKILL');
    expect((await sv.wait('c')).status).toBe(137);
  });

  it('falls back to runc start when there is no fifo where runc keeps its state', async () => {
    const hidden = tempDir();
    const { runcPath, calls } = loggingRunc(hidden);
    const sv = await openSupervisor({ runtime: 'runc', runcPath });
    await sv.create({ id: 'c', bundle: busyboxBundle(tempDir(), 'c', { args: ['sh', '-c', 'exit 3'] }) });
    await sv.start('c');
    expect((await sv.wait('c')).status).toBe(3);
    expect(calls().filter((call) => call.endsWith(' start c'))).toHaveLength(1);
    await sv.delete('c');
  });

  it('a start whose init died before it opened the fifo fails, and does not hang', async () => {
    const stateDir = tempDir();
    const sv = await openSupervisor({ stateDir, runtime: 'runc' });
    await sv.create({ id: 'c', bundle: busyboxBundle(tempDir(), 'c', { args: ['true'] }) });
    process.kill(runcState(join(stateDir, 'runc'), 'c').pid, 'SIGKILL');
    const started = Date.now();
    await expect(sv.start('c').catch((e) => { console.log('START ERR', e.code, e.message); throw e; })).rejects.toMatchObject({ name: 'BerthError' });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a supervisor killed while the start waits on the fifo leaves it to finish; the next one journals the start once', async () => {
    const stateDir = tempDir();
    // The hook runs after init took the fifo's byte and before it execs: the start is in flight for 2 s.
    const hook = JSON.stringify({ path: '/bin/sleep', args: ['sleep', '2'] });
    const lines = await runUntilKilled(stateDir, ['create:c:sleep 60', '&start:c'], { after: 'STEP 1', delayMs: 300 }, 'runc', { BERTH_START_HOOK: hook });
    expect(lines).toContain('STEP 1 fired');
    const root = join(stateDir, 'runc');
    expect(runcStatus(root, 'c')).toBe('created');
    // Nobody is left to remove the fifo but the start itself.
    await expect.poll(() => runcStatus(root, 'c'), { timeout: 10_000 }).toBe('running');
    const sv = await openSupervisor({ stateDir, runtime: 'runc' });
    expect(sv.get('c').status).toBe('running');
    await sv.signal('c', 'init', 'SIGKILL');
    expect((await sv.wait('c')).status).toBe(137);
    expect(await briefSince(sv, 0)).toEqual(['create', 'start-container:init', 'exit:init=137']);
  }, 60_000);
});
