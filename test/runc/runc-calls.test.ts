import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSupervisor, tempDir } from '../helpers.js';
import { busyboxBundle, canRunContainers } from '../support/busybox-bundle.js';

const runc = describe.skipIf(!canRunContainers() && !process.env.CI);

/**
 * A stand-in runc whose `pause` hangs (its pid written to `hung.pid`) while
 * every other call goes to the real runc.
 */
function runcHangingOnPause(): { runcPath: string; pidFile: string } {
  const dir = tempDir();
  const pidFile = join(dir, 'hung.pid');
  const runcPath = join(dir, 'runc');
  writeFileSync(runcPath, `#!/bin/sh\ncase " $* " in *" pause "*) echo $$ > ${pidFile}; exec sleep 600;; esac\nexec runc "$@"\n`);
  chmodSync(runcPath, 0o755);
  return { runcPath, pidFile };
}

const gone = (pidFile: string) => !existsSync(`/proc/${readFileSync(pidFile, 'utf8').trim()}`);

runc('runc calls (runc runtime)', () => {
  it('a hung runc call leaves the event loop free, and ends in a typed error after runcTimeoutMs, killed, the container unchanged', async () => {
    const { runcPath, pidFile } = runcHangingOnPause();
    const sv = await openSupervisor({ runtime: 'runc', runcPath, runcTimeoutMs: 5_000 });
    for (const id of ['hung', 'other']) {
      await sv.create({ id, bundle: busyboxBundle(tempDir('berth-bundle-'), id, { args: ['sleep', '60'] }) });
      await sv.start(id);
    }
    const order: string[] = [];
    const pause = sv.pause('hung').then(
      () => order.push('pause resolved'),
      (err: unknown) => {
        order.push('pause failed');
        return err;
      },
    );
    await expect.poll(() => existsSync(pidFile)).toBe(true);
    // While runc hangs, timers fire and other containers' runc calls are made and answered.
    await new Promise((done) => setTimeout(done, 50));
    order.push('timer');
    expect((await sv.stats('other')).pids.current).toBeGreaterThan(0);
    order.push('stats of another container');
    const err = await pause;
    expect(order).toEqual(['timer', 'stats of another container', 'pause failed']);
    expect(err).toMatchObject({ code: 'runtime-error', message: 'runc pause did not finish within 5000 ms and was killed' });
    expect(gone(pidFile)).toBe(true);
    // Nothing half-done: the container still runs, and is stopped as usual.
    expect(sv.get('hung').status).toBe('running');
    await sv.signal('hung', 'init', 'SIGKILL');
    expect((await sv.wait('hung')).status).toBe(137);
  });

  it('close() cancels a runc call still running', async () => {
    const { runcPath, pidFile } = runcHangingOnPause();
    const sv = await openSupervisor({ runtime: 'runc', runcPath, runcTimeoutMs: 600_000 });
    await sv.create({ id: 'c', bundle: busyboxBundle(tempDir('berth-bundle-'), 'c', { args: ['sleep', '60'] }) });
    await sv.start('c');
    const pause = sv.pause('c').catch((e: unknown) => e);
    await expect.poll(() => existsSync(pidFile)).toBe(true);
    await sv.close({ leaveRunning: true });
    expect(await pause).toMatchObject({ code: 'closed' });
    // Cancelled with a signal: the call settles at once, the process is gone a moment later.
    await expect.poll(() => gone(pidFile)).toBe(true);
    // Re-adopted by the next supervisor (with the real runc), which ends it.
    const next = await openSupervisor({ runtime: 'runc', stateDir: sv.stateDir });
    expect(next.get('c').status).toBe('running');
    await next.signal('c', 'init', 'SIGKILL');
    expect((await next.wait('c')).status).toBe(137);
  });

  it("runc's failure is a typed error carrying runc's own words, bounded", async () => {
    const dir = tempDir();
    const runcPath = join(dir, 'runc');
    const noise = 'x'.repeat(100_000);
    writeFileSync(runcPath, `#!/bin/sh\ncase " $* " in *" pause "*) echo 'time="t" level=error msg="cannot freeze: ${noise}"' >&2; exit 1;; esac\nexec runc "$@"\n`);
    chmodSync(runcPath, 0o755);
    const sv = await openSupervisor({ runtime: 'runc', runcPath });
    await sv.create({ id: 'c', bundle: busyboxBundle(tempDir('berth-bundle-'), 'c', { args: ['sleep', '60'] }) });
    await sv.start('c');
    const err = (await sv.pause('c').catch((e: unknown) => e)) as Error;
    expect(err).toMatchObject({ code: 'runtime-error', message: expect.stringMatching(/^runc pause: cannot freeze: x+… \(\d+ more characters\)$/) });
    expect(err.message.length).toBeLessThan(2_100);
    expect(sv.get('c').status).toBe('running');
  });
});
