import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Supervisor } from '../../src/index.js';
import { commandLine } from '../../src/io/os/os-process.js';
import { defaultCgroupParent } from '../../src/io/runc/runc-bundle.js';
import { openSupervisor, tempDir } from '../helpers.js';
import { busyboxBundle, canRunContainers } from '../support/busybox-bundle.js';
import { runThenCrash } from '../support/crash.js';

const runc = describe.skipIf(!canRunContainers() && !process.env.CI);

/** runc's containers in the state dir's runc root. */
function runcContainers(stateDir: string): string[] {
  const out = execFileSync('runc', ['--root', join(stateDir, 'runc'), 'list', '--format', 'json'], { encoding: 'utf8' });
  return ((JSON.parse(out) as { id: string }[] | null) ?? []).map((c) => c.id);
}

/** The containers every conmon still running for this state dir monitors. */
function conmonsOf(stateDir: string): string[] {
  const prefix = join(stateDir, 'containers') + '/';
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map((pid) => commandLine(Number(pid)) ?? '')
    .filter((cmd) => cmd.startsWith('conmon ') || cmd.includes('/conmon '))
    .flatMap((cmd) => cmd.split(' ').filter((arg) => arg.startsWith(prefix)).slice(0, 1))
    .map((path) => path.slice(prefix.length).split('/')[0]!);
}

/** The container cgroups under the state dir's cgroup parent (cgroup v2). */
function cgroupsOf(stateDir: string): string[] {
  const parent = join('/sys/fs/cgroup', defaultCgroupParent(stateDir));
  if (!existsSync(parent)) return [];
  return readdirSync(parent, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
}

/** Nothing runs for this state dir that the registry does not know. */
function expectOnlyKnown(sv: Supervisor, stateDir: string): void {
  const known = sv.list().map((c) => c.id);
  expect(runcContainers(stateDir).filter((id) => !known.includes(id))).toEqual([]);
  expect(conmonsOf(stateDir).filter((id) => !known.includes(id))).toEqual([]);
  expect(cgroupsOf(stateDir).filter((id) => !known.includes(id))).toEqual([]);
}

async function reuse(sv: Supervisor, id: string): Promise<void> {
  if (sv.list().some((c) => c.id === id)) await sv.delete(id, { force: true });
  await sv.create({ id, bundle: busyboxBundle(tempDir(), id, { args: ['sh', '-c', 'exit 5'] }) });
  await sv.start(id);
  expect((await sv.wait(id)).status).toBe(5);
}

// Several instants of each operation: the crash lands before, during and after the runc calls.
const INSTANTS_MS = [0, 15, 40, 90];

runc('a supervisor killed in the middle of an operation (runc runtime): restore reconciles runc and conmon with the registry', () => {
  it.each(INSTANTS_MS)('killed %i ms into create: the id is reusable and nothing unknown runs', async (ms) => {
    const stateDir = tempDir();
    await runThenCrash(stateDir, ['create&:c:sleep 30'], ms, 'runc');
    const sv = await openSupervisor({ stateDir, runtime: 'runc' });
    expectOnlyKnown(sv, stateDir);
    await reuse(sv, 'c');
  });

  it.each(INSTANTS_MS)('killed %i ms into start: the container is known, and reusable after delete', async (ms) => {
    const stateDir = tempDir();
    await runThenCrash(stateDir, ['create:c:sleep 30', 'start&:c'], ms, 'runc');
    const sv = await openSupervisor({ stateDir, runtime: 'runc' });
    expectOnlyKnown(sv, stateDir);
    await reuse(sv, 'c');
  });

  it.each(INSTANTS_MS)('killed %i ms into exec: the exec is either adopted or gone, and its id is reusable', async (ms) => {
    const stateDir = tempDir();
    await runThenCrash(stateDir, ['create:c:sleep 30', 'start:c', 'exec&:c:e:sleep 30'], ms, 'runc');
    const sv = await openSupervisor({ stateDir, runtime: 'runc' });
    expectOnlyKnown(sv, stateDir);
    const adopted = sv.get('c').processes.some((p) => p.id === 'e');
    // Only the processes the registry knows run in the container: init, and e if it was adopted.
    const running = execFileSync('runc', ['--root', join(stateDir, 'runc'), 'ps', '--format', 'json', 'c'], { encoding: 'utf8' });
    expect((JSON.parse(running) as number[]).length).toBe(adopted ? 2 : 1);
    if (adopted) await sv.signal('c', 'e', 'SIGKILL');
    if (adopted) await sv.wait('c', 'e');
    else {
      await sv.exec('c', { execId: 'e', args: ['sh', '-c', 'exit 4'] });
      expect((await sv.wait('c', 'e')).status).toBe(4);
    }
  });

  it.each(INSTANTS_MS)('killed %i ms into a forced delete: the id is reusable and nothing unknown runs', async (ms) => {
    const stateDir = tempDir();
    await runThenCrash(stateDir, ['create:c:sleep 30', 'start:c', 'delete&:c'], ms, 'runc');
    const sv = await openSupervisor({ stateDir, runtime: 'runc' });
    expectOnlyKnown(sv, stateDir);
    await reuse(sv, 'c');
  });
});
