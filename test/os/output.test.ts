import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Supervisor } from '../../src/index.js';
import { openSupervisor, tempDir } from '../helpers.js';
import { busyboxBundle, canRunContainers } from '../support/busybox-bundle.js';

/** Prints a line, waits for the test's go-ahead, then prints a multi-byte piece without a newline, to stderr. */
const script = (control: string) => `printf 'first\\n'; while [ ! -e '${control}/go' ]; do sleep 0.01; done; printf 'é—second' >&2`;

/** 30,000 three-byte characters on one line: 90,000 bytes, more than one 64 KiB read and many conmon buffers. */
const LONG = "i=0; s=''; while [ $i -lt 300 ]; do s=\"$s—\"; i=$((i+1)); done; i=0; while [ $i -lt 100 ]; do printf '%s' \"$s\"; i=$((i+1)); done";

const RUNTIMES = [
  {
    name: 'process' as const,
    available: true,
    /** Creates `id` running `sh -c <cmd(control dir as the process sees it)>`. */
    create: (sv: Supervisor, id: string, control: string, cmd: (control: string) => string) =>
      sv.create({ id, process: { args: ['sh', '-c', cmd(control)] } }),
  },
  {
    name: 'runc' as const,
    available: canRunContainers() || Boolean(process.env.CI),
    create: (sv: Supervisor, id: string, control: string, cmd: (control: string) => string) =>
      sv.create({
        id,
        bundle: busyboxBundle(tempDir('berth-bundle-'), id, { args: ['sh', '-c', cmd('/control')], mounts: [{ source: control, destination: '/control' }] }),
      }),
  },
];

for (const runtime of RUNTIMES) describe.skipIf(!runtime.available)(`live output (${runtime.name} runtime)`, () => {
  it('streams stdout and stderr as written, and completes after the exit with everything logs() has', async () => {
    const sv = await openSupervisor({ runtime: runtime.name });
    const control = tempDir('berth-control-');
    await runtime.create(sv, 'c', control, script);
    await sv.start('c');
    const chunks: string[] = [];
    const all = lastValueFrom(sv.output('c').pipe(toArray()));
    const live = sv.output('c').subscribe((chunk) => chunks.push(chunk));
    // The first line arrives while the process is still running: it waits for the file below.
    await expect.poll(() => chunks.join('')).toBe('first\n');
    expect(sv.get('c').status).toBe('running');
    writeFileSync(join(control, 'go'), '');
    expect((await all).join('')).toBe('first\né—second');
    expect(await sv.logs('c')).toBe('first\né—second');
    expect(chunks.join('')).toBe('first\né—second');
    live.unsubscribe();
  });

  it('errors with not-found for a process that does not exist, and completes at once for one that has exited', async () => {
    const sv = await openSupervisor({ runtime: runtime.name });
    const control = tempDir('berth-control-');
    writeFileSync(join(control, 'go'), '');
    await runtime.create(sv, 'c', control, script);
    await sv.start('c');
    await sv.wait('c');
    await expect(lastValueFrom(sv.output('c', 'nope'))).rejects.toMatchObject({ code: 'not-found' });
    await expect(lastValueFrom(sv.output('ghost'))).rejects.toMatchObject({ code: 'not-found' });
    expect((await lastValueFrom(sv.output('c').pipe(toArray()))).join('')).toBe('first\né—second');
  });

  it('completes, with what was written, when the container is deleted while it is followed', async () => {
    const sv = await openSupervisor({ runtime: runtime.name });
    await runtime.create(sv, 'c', tempDir('berth-control-'), script);
    await sv.start('c');
    const chunks: string[] = [];
    const done = lastValueFrom(sv.output('c').pipe(toArray()));
    const live = sv.output('c').subscribe((chunk) => chunks.push(chunk));
    await expect.poll(() => chunks.join('')).toBe('first\n');
    await sv.delete('c', { force: true });
    expect((await done).join('')).toBe('first\n');
    live.unsubscribe();
  });

  it('comes out whole when multi-byte characters straddle reads and conmon buffers', async () => {
    const sv = await openSupervisor({ runtime: runtime.name });
    await runtime.create(sv, 'long', tempDir('berth-control-'), () => LONG);
    await sv.start('long');
    await sv.wait('long'); // all 90,000 bytes are there before the first read
    const expected = '—'.repeat(30_000);
    expect((await lastValueFrom(sv.output('long').pipe(toArray()))).join('')).toBe(expected);
    expect(await sv.logs('long')).toBe(expected);
  });
});
