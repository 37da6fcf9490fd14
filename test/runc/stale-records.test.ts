import { chmodSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSupervisor, tempDir } from '../helpers.js';
import { busyboxBundle, canRunContainers } from '../support/busybox-bundle.js';
import { runThenCrash } from '../support/crash.js';

const runc = describe.skipIf(!canRunContainers() && !process.env.CI);

/** The exit files conmon left for a process, whatever attempt wrote them. */
const exitFiles = (dir: string, proc: string) =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.includes(proc) && /exit[^/]*\/[^/]+$/.test(f));

runc('exit records belong to one launch of one process (runc runtime)', () => {
  it('a conmon of a timed-out exec that runs late never reports its exit as the retried exec’s', async () => {
    const dir = tempDir();
    // Like conmon's daemon, the first exec's monitor escapes the timeout's kill (setsid), and runs a moment later
    // with the spec it had read (exit 7); the launcher it left behind never reports, so the exec times out.
    const conmon = join(dir, 'conmon');
    writeFileSync(
      conmon,
      `#!/bin/sh
case " $* " in *" --exec "*) ;; *) exec conmon "$@";; esac
[ -e ${dir}/first ] && exec conmon "$@"
touch ${dir}/first
n=$#; prev=
for a in "$@"; do
  if [ "$prev" = --exec-process-spec ]; then cp "$a" ${dir}/first.json; a=${dir}/first.json; fi
  set -- "$@" "$a"; prev=$a
done
shift $n
setsid sh -c 'sleep 3; exec conmon "$@"' late "$@" </dev/null >/dev/null 2>&1 &
exec sleep 600
`,
    );
    chmodSync(conmon, 0o755);
    const sv = await openSupervisor({ runtime: 'runc', conmonPath: conmon, startTimeoutMs: 2_000 });
    await sv.create({ id: 'c', bundle: busyboxBundle(tempDir(), 'c', { args: ['sleep', '60'] }) });
    await sv.start('c');
    const first = await sv.exec('c', { execId: 'e', args: ['sh', '-c', 'exit 7'] }).catch((e: unknown) => e);
    expect((first as Error).message).toMatch(/did not report/);
    await sv.exec('c', { execId: 'e', args: ['sh', '-c', 'sleep 5; exit 3'] });
    expect((await sv.wait('c', 'e')).status).toBe(3);
  });

  it('an exit file that is not a status is never read as one: 255, not an invented code', async () => {
    const stateDir = tempDir();
    const crashed = await runThenCrash(stateDir, ['create:c:sleep 30', 'start:c'], 0, 'runc');
    process.kill(crashed.pids['c/init']!, 'SIGKILL');
    const dir = join(stateDir, 'containers', 'c');
    await expect.poll(() => exitFiles(dir, 'init').length).toBe(1);
    // conmon has written it and exited: what is on disk now is all there will ever be.
    writeFileSync(join(dir, exitFiles(dir, 'init')[0]!), '99999\n');
    const sv = await openSupervisor({ stateDir, runtime: 'runc' });
    expect(await sv.wait('c')).toMatchObject({ status: 255, reason: 'shim-lost' });
    expect(existsSync(dir)).toBe(true);
  });
});
