import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BerthError, MAX_ID_LENGTH, type Supervisor } from '../src/index.js';
import { openSupervisor, storedEvents, tempDir } from './helpers.js';
import { CGROUPS } from './support/cgroups.js';

async function codeOf(promise: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (err) {
    expect(err).toBeInstanceOf(BerthError);
    return (err as BerthError).code;
  }
  throw new Error('expected a BerthError, but the call succeeded');
}

async function expectNothingLeft(sv: Supervisor, stateDir: string): Promise<void> {
  expect(sv.list()).toEqual([]);
  expect(readdirSync(join(stateDir, 'containers'))).toEqual([]);
  expect(await storedEvents(sv)).toEqual([]);
}

describe('typed errors, with nothing left half-done', () => {
  it('refuses ids that could escape the state dir or are malformed', async () => {
    const stateDir = tempDir();
    const sv = await openSupervisor({ stateDir });
    const bad = ['', '..', '.', '../x', 'a/b', '/abs', '.hidden', 'x'.repeat(MAX_ID_LENGTH + 1), 'a b', 'nul\0', 42];
    for (const id of bad) {
      expect(await codeOf(sv.create({ id: id as string, process: { args: ['true'] } }))).toBe('invalid-id');
    }
    expect(await codeOf(() => sv.get('../etc'))).toBe('invalid-id');
    expect(await codeOf(sv.start('a/b'))).toBe('invalid-id');
    expect(existsSync(join(stateDir, '..', 'etc'))).toBe(false);
    await expectNothingLeft(sv, stateDir);
    // The longest allowed id works.
    await sv.create({ id: 'x'.repeat(MAX_ID_LENGTH), process: { args: ['true'] } });
  });

  it('reports unknown containers and processes as not-found', async () => {
    const sv = await openSupervisor();
    expect(await codeOf(sv.start('ghost'))).toBe('not-found');
    expect(await codeOf(sv.exec('ghost', { execId: 'e', args: ['true'] }))).toBe('not-found');
    expect(await codeOf(sv.signal('ghost', 'init', 'SIGTERM'))).toBe('not-found');
    expect(await codeOf(sv.delete('ghost'))).toBe('not-found');
    expect(await codeOf(sv.wait('ghost'))).toBe('not-found');
    expect(await codeOf(() => sv.get('ghost'))).toBe('not-found');
    await sv.create({ id: 'c', process: { args: ['sleep', '30'] } });
    await sv.start('c');
    expect(await codeOf(sv.signal('c', 'nosuchexec', 'SIGTERM'))).toBe('not-found');
    expect(await codeOf(sv.wait('c', 'nosuchexec'))).toBe('not-found');
    expect(await codeOf(sv.logs('c', 'nosuchexec'))).toBe('not-found');
  });

  it('refuses duplicate container and exec ids, keeping the original untouched', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 'dup', process: { args: ['sleep', '30'] }, labels: { v: '1' } });
    expect(await codeOf(sv.create({ id: 'dup', process: { args: ['true'] }, labels: { v: '2' } }))).toBe('already-exists');
    expect(sv.get('dup').labels).toEqual({ v: '1' });
    await sv.start('dup');
    await sv.exec('dup', { execId: 'e', args: ['true'] });
    await sv.wait('dup', 'e');
    expect(await codeOf(sv.exec('dup', { execId: 'e', args: ['true'] }))).toBe('already-exists');
    expect(await codeOf(sv.exec('dup', { execId: 'init', args: ['true'] }))).toBe('invalid-id');
  });

  it('refuses operations the current state does not allow', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 'c', process: { args: ['sleep', '30'] } });
    expect(await codeOf(sv.exec('c', { execId: 'e', args: ['true'] }))).toBe('invalid-state');
    expect(await codeOf(sv.pause('c'))).toBe('invalid-state');
    expect(await codeOf(sv.signal('c', 'init', 'SIGTERM'))).toBe('invalid-state');
    await sv.start('c');
    expect(await codeOf(sv.start('c'))).toBe('invalid-state');
    expect(await codeOf(sv.resume('c'))).toBe('invalid-state');
    expect(await codeOf(sv.delete('c'))).toBe('invalid-state');
    await sv.signal('c', 'init', 'SIGKILL');
    await sv.wait('c');
    expect(await codeOf(sv.signal('c', 'init', 'SIGTERM'))).toBe('invalid-state');
    expect(await codeOf(sv.exec('c', { execId: 'e', args: ['true'] }))).toBe('invalid-state');
    expect(sv.get('c').status).toBe('exited');
  });

  it('refuses signals the kernel does not know', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 'c', process: { args: ['sleep', '30'] } });
    await sv.start('c');
    for (const signal of ['SIGFOO', 'KILLALL', '', 0, -1, 999, 1.5]) {
      expect(await codeOf(sv.signal('c', 'init', signal))).toBe('invalid-signal');
    }
    expect(sv.get('c').status).toBe('running');
    await sv.signal('c', 'init', 'usr1');
    expect((await sv.wait('c')).status).toBe(128 + 10);
  });

  it('fails create on a missing executable with runc\'s wording, leaving nothing behind and the id reusable', async () => {
    const stateDir = tempDir();
    const sv = await openSupervisor({ stateDir });
    const err = await sv.create({ id: 'nsf', process: { args: ['NoSuchFile'] } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid-spec', message: 'exec: "NoSuchFile": executable file not found in $PATH' });
    expect(await codeOf(sv.create({ id: 'nsf', process: { args: ['true'], cwd: '/no/such/dir' } }))).toBe('invalid-spec');
    expect(await codeOf(sv.create({ id: 'nsf', process: { args: [] } }))).toBe('invalid-spec');
    await expectNothingLeft(sv, stateDir);
    await sv.create({ id: 'nsf', process: { args: ['true'] } });
    expect(sv.get('nsf').status).toBe('created');
  });

  it('fails an exec with a missing executable without registering it', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 'c', process: { args: ['sleep', '30'] } });
    await sv.start('c');
    expect(await codeOf(sv.exec('c', { execId: 'e', args: ['NoSuchFile'] }))).toBe('invalid-spec');
    expect(sv.get('c').processes.map((p) => p.id)).toEqual(['init']);
    await sv.exec('c', { execId: 'e', args: ['true'] });
    expect((await sv.wait('c', 'e')).status).toBe(0);
  });

  it('says which runtime can do what the process runtime cannot', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 'c', process: { args: ['sleep', '30'] } });
    await sv.start('c');
    // With a cgroup per container (root), stats and update are the process runtime's too (test/process/cgroups.test.ts).
    if (!CGROUPS) {
      expect(await codeOf(sv.stats('c'))).toBe('unsupported');
      expect(await codeOf(sv.update('c', { memory: { limit: 1 << 20 } }))).toBe('unsupported');
    }
    expect(await codeOf(sv.checkpoint('c', { name: 'x' }))).toBe('unsupported');
    expect(await codeOf(sv.create({ id: 'b', bundle: '/nonexistent' }))).toBe('invalid-spec');
    expect(sv.get('c').status).toBe('running');
    expect(sv.list().map((c) => c.id)).toEqual(['c']);
  });

  it('validates event queries', async () => {
    const sv = await openSupervisor();
    expect(await codeOf(() => sv.events({ types: ['nope' as 'exit'] }))).toBe('invalid-spec');
    expect(await codeOf(() => sv.events({ storedOnly: true }))).toBe('invalid-spec');
    expect(await codeOf(() => sv.events({ after: -1 }))).toBe('invalid-spec');
    expect(await codeOf(() => sv.events({ id: '../x' }))).toBe('invalid-id');
  });

  it('refuses calls after close', async () => {
    const sv = await openSupervisor();
    await sv.close();
    expect(await codeOf(sv.create({ id: 'late', process: { args: ['true'] } }))).toBe('closed');
  });
});
