import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RLIM_INFINITY } from '../../src/index.js';
import { openSupervisor, tempDir } from '../helpers.js';
import { busyboxBundle, canRunContainers } from '../support/busybox-bundle.js';

const runc = describe.skipIf(!canRunContainers() && !process.env.CI);

/** A busybox bundle whose config.json gives an unlimited RLIMIT_CORE the way OCI writes it: 18446744073709551615. */
function unlimitedCoreBundle(args: string[]): string {
  const bundle = busyboxBundle(tempDir('berth-bundle-'), 'b', { args });
  const path = join(bundle, 'config.json');
  const config = JSON.parse(readFileSync(path, 'utf8'));
  config.process.rlimits = [{ type: 'RLIMIT_CORE', soft: 'MAX', hard: 'MAX' }];
  writeFileSync(path, JSON.stringify(config).replaceAll('"MAX"', '18446744073709551615'));
  return bundle;
}

runc('the runc runtime: user and rlimits, the vocabulary the process runtime shares', () => {
  it("a config.json's unlimited rlimit survives berth's copy of the bundle, for init and for execs", async () => {
    const sv = await openSupervisor({ runtime: 'runc' });
    await sv.create({ id: 'c', bundle: unlimitedCoreBundle(['sh', '-c', 'ulimit -c; exec sleep 30']) });
    await sv.start('c');
    await sv.exec('c', { execId: 'e', args: ['sh', '-c', 'ulimit -c'] });
    expect((await sv.wait('c', 'e')).status).toBe(0);
    expect((await sv.logs('c', 'e')).trim()).toBe('unlimited');
    expect((await sv.logs('c')).trim()).toBe('unlimited');
  }, 60_000);

  it("an exec's user and rlimits replace the bundle's, as on the process runtime", async () => {
    const sv = await openSupervisor({ runtime: 'runc' });
    await sv.create({ id: 'c', bundle: busyboxBundle(tempDir('berth-bundle-'), 'b', { args: ['sleep', '30'] }) });
    await sv.start('c');
    // Not RLIMIT_NOFILE: runc 1.1's exec (built with Go 1.19+) raises its soft limit to the hard one.
    const rlimits = [{ type: 'RLIMIT_NPROC' as const, soft: 77, hard: 88 }, { type: 'RLIMIT_CORE' as const, soft: RLIM_INFINITY, hard: RLIM_INFINITY }];
    const report = "id -u; id -g; id -G; grep -E '^Max (processes|core)' /proc/self/limits | tr -s ' '";
    await sv.exec('c', { execId: 'e', args: ['sh', '-c', report], user: { uid: 4_321, gid: 4_322, additionalGids: [4_323] }, rlimits });
    expect((await sv.wait('c', 'e')).status).toBe(0);
    expect((await sv.logs('c', 'e')).split('\n').map((line) => line.trim()).filter(Boolean)).toEqual([
      '4321',
      '4322',
      '4322 4323',
      'Max core file size unlimited unlimited bytes',
      'Max processes 77 88 processes',
    ]);
  }, 60_000);
});
