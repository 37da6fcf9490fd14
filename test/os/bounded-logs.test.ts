import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Supervisor } from '../../src/index.js';
import { openSupervisor, tempDir } from '../helpers.js';
import { runUntilKilled } from '../support/crash.js';
import { busyboxBundle, canRunContainers } from '../support/busybox-bundle.js';

const MiB = 1024 * 1024;
const LIMITS = { maxBytes: MiB, keep: 2 };

/** What `seq 1 n` prints. */
const seq = (n: number): Buffer => execFileSync('seq', ['1', String(n)], { maxBuffer: 1 << 30 });
const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** The log's files of one process, as [name, start, size]; the current one's start is where the newest rotated one ends. */
function logFiles(dir: string, processId: string): [string, number, number][] {
  const rotated = readdirSync(dir)
    .filter((name) => new RegExp(`^${processId}\\.log\\.\\d+$`).test(name))
    .map((name): [string, number, number] => [name, Number(name.split('.').pop()), statSync(join(dir, name)).size])
    .sort((a, b) => a[1] - b[1]);
  const newest = rotated.at(-1);
  const current = statSync(join(dir, `${processId}.log`), { throwIfNoEntry: false });
  return current ? [...rotated, [`${processId}.log`, newest ? newest[1] + newest[2] : 0, current.size]] : rotated;
}

/** Total offset just past the log's last byte. */
function logEnd(dir: string, processId: string): number {
  const [, start, size] = logFiles(dir, processId).at(-1) ?? ['', 0, 0];
  return start + size;
}

/** Samples how many bytes the log's files take, every few milliseconds, until stopped; the largest seen. */
function sampleDiskUse(dir: string, processId: string): () => number {
  let max = 0;
  const names = () => logFiles(dir, processId).map(([name]) => name).join();
  const sample = () => {
    try {
      const before = names();
      const used = logFiles(dir, processId).reduce((sum, [, , size]) => sum + size, 0);
      // A rotation or removal between the listing and the sizes would add up files of different instants.
      if (names() === before) max = Math.max(max, used);
    } catch {
      // a file rotated between the listing and its stat: the next sample sees it
    }
  };
  const timer = setInterval(sample, 2);
  return () => {
    clearInterval(timer);
    sample();
    return max;
  };
}

describe('bounded logs (process runtime)', () => {
  it('refuses limits that are not { maxBytes ≥ 4096, keep ≥ 1 }, creating nothing', async () => {
    const sv = await openSupervisor();
    for (const logs of [{ maxBytes: 100, keep: 1 }, { maxBytes: MiB, keep: 0 }, { maxBytes: MiB }, { maxBytes: 4096.5, keep: 1 }, { maxBytes: MiB, keep: 1, rotate: true }, 'big']) {
      await expect(sv.create({ id: 'c', process: { args: ['true'] }, logs } as never)).rejects.toMatchObject({ code: 'invalid-spec' });
    }
    expect(sv.list()).toEqual([]);
    await expect(Supervisor.open({ stateDir: tempDir(), logs: { maxBytes: MiB, keep: -1 } })).rejects.toMatchObject({ code: 'invalid-spec' });
  });

  it('50 MB through maxBytes 1 MiB, keep 2: at most 3 MiB on disk, a follower gets every byte in order, logs() the kept tail', async () => {
    const sv = await openSupervisor();
    const lines = 6_500_000;
    await sv.create({ id: 'c', process: { args: ['seq', '1', String(lines)] }, logs: LIMITS });
    const dir = join(sv.stateDir, 'containers', 'c');
    const hash = createHash('sha256');
    let received = 0;
    const followed = lastValueFrom(sv.output('c'), { defaultValue: undefined });
    sv.output('c').subscribe((text) => {
      hash.update(text);
      received += text.length;
    });
    const diskUse = sampleDiskUse(dir, 'init');
    await sv.start('c');
    expect((await sv.wait('c')).status).toBe(0);
    await followed;
    const maxOnDisk = diskUse();
    const expected = seq(lines);
    console.log(`bounded logs: ${expected.length} bytes written; at most ${maxOnDisk} bytes of log on disk; follower got ${received}`);
    expect(expected.length).toBeGreaterThan(50_000_000);
    expect(received).toBe(expected.length);
    expect(hash.digest('hex')).toBe(sha(expected));
    expect(maxOnDisk).toBeLessThanOrEqual(3 * MiB);
    const files = logFiles(dir, 'init');
    expect(files.length).toBeLessThanOrEqual(3);
    // Every kept file holds the bytes of its name's offset: nothing lost or repeated at a rotation.
    for (const [name, start, size] of files) expect(sha(readFileSync(join(dir, name)))).toBe(sha(expected.subarray(start, start + size)));
    const logs = await sv.logs('c');
    expect(logs.length).toBeLessThanOrEqual(3 * MiB);
    expect(logs).toBe(expected.subarray(expected.length - logs.length).toString());
    expect(files[0]![1]).toBe(expected.length - logs.length);
  }, 180_000); // the writer goes at the follower's pace, slow on a loaded machine

  it("the supervisor's default bounds execs too; a follower stuck longer than the writer waits is told output-lost", async () => {
    const sv = await openSupervisor({ logs: { maxBytes: 64 * 1024, keep: 1 } });
    await sv.create({ id: 'c', process: { args: ['sleep', '60'] } });
    await sv.start('c');
    await sv.exec('c', { execId: 'e', args: ['sh', '-c', 'sleep 0.5; seq 1 2000000'] });
    let stuck = false;
    const lost = lastValueFrom(sv.output('c', 'e')).catch((err: unknown) => err);
    sv.output('c', 'e').subscribe({
      next: () => {
        if (stuck) return;
        stuck = true;
        // A follower whose event loop is blocked: the monitor waits 5 s for it to move on, then rotates past it.
        const until = Date.now() + 6_500;
        while (Date.now() < until);
      },
      error: () => {},
    });
    expect((await sv.wait('c', 'e')).status).toBe(0);
    expect(await lost).toMatchObject({ code: 'output-lost', message: expect.stringContaining('rotated away before they were read') });
    const dir = join(sv.stateDir, 'containers', 'c');
    expect(logFiles(dir, 'e').length).toBe(2);
    expect(logFiles(dir, 'init')).toEqual([['init.log', 0, 0]]);
    const expected = seq(2_000_000);
    const logs = await sv.logs('c', 'e');
    expect(logs).toBe(expected.subarray(expected.length - logs.length).toString());
  }, 30_000);

  it('rotation goes on while the supervisor is dead (SIGKILL), and the next one reads the kept tail', async () => {
    const stateDir = tempDir();
    const lines = 3_000_000;
    await runUntilKilled(stateDir, [`create:c:sleep 1; seq 1 ${lines}; sleep 1`, 'start:c'], { after: 'READY', delayMs: 0 }, 'process', { BERTH_LOGS: `${MiB}:2` });
    const dir = join(stateDir, 'containers', 'c');
    const diskUse = sampleDiskUse(dir, 'init');
    const expected = seq(lines);
    // Nobody supervises: the monitor alone rotates, until all of it is written.
    await expect.poll(() => logEnd(dir, 'init'), { timeout: 30_000 }).toBe(expected.length);
    const maxOnDisk = diskUse();
    expect(maxOnDisk).toBeLessThanOrEqual(3 * MiB);
    const sv = await openSupervisor({ stateDir });
    expect((await sv.wait('c')).status).toBe(0);
    const files = logFiles(dir, 'init');
    expect(files.length).toBe(3);
    for (const [name, start, size] of files) expect(sha(readFileSync(join(dir, name)))).toBe(sha(expected.subarray(start, start + size)));
    expect(await sv.logs('c')).toBe(expected.subarray(files[0]![1]).toString());
  }, 60_000);
});

const runc = describe.skipIf(!canRunContainers() && !process.env.CI);

runc('bounded logs (runc runtime)', () => {
  it('conmon reopens its log after each rotation: followers of init and of an exec get every line, logs() the kept tail', async () => {
    const sv = await openSupervisor({ runtime: 'runc' });
    const lines = 200_000;
    const bundle = busyboxBundle(tempDir('berth-bundle-'), 'c', { args: ['sh', '-c', `sleep 0.5; seq 1 ${lines}; sleep 1`] });
    await sv.create({ id: 'c', bundle, logs: LIMITS });
    const dir = join(sv.stateDir, 'containers', 'c');
    const init = lastValueFrom(sv.output('c'), { defaultValue: '' });
    const initText: string[] = [];
    sv.output('c').subscribe((text) => initText.push(text));
    const diskUse = sampleDiskUse(dir, 'init');
    await sv.start('c');
    await sv.exec('c', { execId: 'e', args: ['seq', '1', String(lines)] });
    const execText: string[] = [];
    const exec = new Promise<void>((done, fail) => sv.output('c', 'e').subscribe({ next: (text) => execText.push(text), complete: done, error: fail }));
    expect((await sv.wait('c')).status).toBe(0);
    await init;
    await exec;
    const maxOnDisk = diskUse();
    const expected = seq(lines).toString();
    expect(initText.join('')).toBe(expected);
    expect(execText.join('')).toBe(expected);
    for (const processId of ['init', 'e']) {
      const files = logFiles(dir, processId);
      // Two files at least: a rotated one and one conmon wrote after it reopened (rotated too, if the last rename came as it exited).
      expect(files.length).toBeGreaterThanOrEqual(2);
      expect(files.filter(([name]) => name !== `${processId}.log`).length).toBeLessThanOrEqual(LIMITS.keep);
      const logs = await sv.logs('c', processId);
      expect(logs.length).toBeGreaterThan(0);
      expect(expected.endsWith(logs)).toBe(true);
    }
    const overshoot = Math.max(...['init', 'e'].flatMap((p) => logFiles(dir, p).filter(([name]) => name !== `${p}.log`).map(([, , size]) => size - LIMITS.maxBytes)));
    console.log(`bounded logs (runc): init's log is ${logEnd(dir, 'init')} bytes of k8s-file; at most ${maxOnDisk} bytes of it on disk at once (followers held files back); kept rotated files overshoot maxBytes by up to ${overshoot} bytes`);
  }, 60_000);

  it('a supervisor that opens the state dir after a SIGKILL goes on rotating what conmon wrote meanwhile', async () => {
    const stateDir = tempDir();
    const lines = 100_000;
    await runUntilKilled(stateDir, [`create:c:sleep 1; seq 1 ${lines}; sleep 4`, 'start:c'], { after: 'READY', delayMs: 0 }, 'runc', { BERTH_LOGS: `${MiB}:2` });
    const dir = join(stateDir, 'containers', 'c');
    // Nobody rotates while no supervisor runs: conmon writes it all to one file.
    await expect.poll(() => readFileSync(join(dir, 'init.log'), 'utf8').endsWith(` F ${lines}\n`), { timeout: 20_000 }).toBe(true);
    expect(statSync(join(dir, 'init.log')).size).toBeGreaterThan(MiB);
    const sv = await openSupervisor({ stateDir, runtime: 'runc' });
    await expect.poll(() => logFiles(dir, 'init').map(([name]) => name), { timeout: 5_000 }).toEqual(['init.log.0', 'init.log']);
    expect(statSync(join(dir, 'init.log')).size).toBeLessThan(MiB);
    expect((await sv.wait('c')).status).toBe(0);
    const expected = seq(lines).toString();
    expect(await sv.logs('c', 'init', { tailBytes: 1000 })).toMatch(new RegExp(`\\n${lines}\\n$`));
    expect(expected.endsWith(await sv.logs('c'))).toBe(true);
  }, 60_000);
});
