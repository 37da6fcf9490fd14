import { mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { brief, groupAlive, openSupervisor, storedEvents, tempDir } from './helpers.js';

/** A process that ignores SIGTERM (an ignored signal stays ignored across exec). */
const IGNORES_TERM = ['sh', '-c', 'trap "" TERM; exec sleep 30'];

describe('stop', () => {
  it('signals init and settles with its exit', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 's1', process: { args: ['sleep', '30'] } });
    await sv.start('s1');
    const exit = await sv.stop('s1');
    expect(exit).toMatchObject({ status: 143, signal: 'SIGTERM' });
    expect(exit.reason).toBeUndefined();
    expect(brief(await storedEvents(sv))).toEqual(['create', 'start-container:init', 'exit:init=143']);
  });

  it('escalates to SIGKILL when init ignores the signal, after timeoutMs', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 's2', process: { args: IGNORES_TERM } });
    const { pid } = await sv.start('s2');
    await new Promise((done) => setTimeout(done, 200)); // the trap is set
    const began = Date.now();
    const exit = await sv.stop('s2', { timeoutMs: 500 });
    expect(Date.now() - began).toBeGreaterThanOrEqual(500);
    expect(exit).toMatchObject({ status: 137, signal: 'SIGKILL' });
    expect(groupAlive(pid)).toBe(false);
    expect(brief(await storedEvents(sv, { id: 's2' }))).toEqual(['create', 'start-container:init', 'exit:init=137']);
  });

  it('takes another first signal; answers an exited container with its exit and refuses one never started', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 's3', process: { args: ['sleep', '30'] } });
    await expect(sv.stop('s3')).rejects.toMatchObject({ code: 'invalid-state' });
    await sv.start('s3');
    expect(await sv.stop('s3', { signal: 'INT' })).toMatchObject({ status: 130, signal: 'SIGINT' });
    expect(await sv.stop('s3')).toMatchObject({ status: 130, signal: 'SIGINT' });
    await expect(sv.stop('s3', { signal: 'NOPE' })).rejects.toMatchObject({ code: 'invalid-signal' });
    await expect(sv.stop('s3', { timeoutMs: -1 })).rejects.toMatchObject({ code: 'invalid-spec' });
    await expect(sv.stop('nope')).rejects.toMatchObject({ code: 'not-found' });
  });
});

describe('run', () => {
  it('a 1 s timeout kills sleep 10: the exit, journaled once, says timeout; remove leaves no container', async () => {
    const sv = await openSupervisor();
    const began = Date.now();
    const { pid, exit } = await sv.run({ id: 'r1', process: { args: ['sleep', '10'] }, timeoutMs: 1000, remove: true });
    expect(Date.now() - began).toBeLessThan(8000);
    expect(exit).toMatchObject({ status: 137, signal: 'SIGKILL', reason: 'timeout' });
    expect(groupAlive(pid)).toBe(false);
    expect(sv.list()).toEqual([]);
    const rows = await storedEvents(sv);
    expect(brief(rows)).toEqual(['create', 'start-container:init', 'exit:init=137', 'delete']);
    expect(rows[2]).toMatchObject({ reason: 'timeout', signal: 'SIGKILL' });
  });

  it('returns the exit of a process that ends in time, and keeps the container unless remove', async () => {
    const sv = await openSupervisor();
    const { exit } = await sv.run({ id: 'r2', process: { args: ['sh', '-c', 'exit 3'] }, labels: { a: 'b' }, timeoutMs: 10_000 });
    expect(exit).toMatchObject({ status: 3 });
    expect(exit.reason).toBeUndefined();
    expect(sv.get('r2')).toMatchObject({ status: 'exited', labels: { a: 'b' } });
    const killed = await sv.run({ id: 'r3', process: { args: ['sleep', '10'] }, timeoutMs: 300 });
    expect(killed.exit.reason).toBe('timeout');
    expect(sv.get('r3').processes[0]!.exit).toMatchObject({ reason: 'timeout' });
  });

  it('a start that fails leaves no container, remove or not; bad options leave nothing at all', async () => {
    const sv = await openSupervisor();
    const cwd = join(tempDir(), 'gone-at-start');
    mkdirSync(cwd);
    // Its working directory disappears between create (which checked it) and start.
    const sub = sv.events({ types: ['create'] }).subscribe(() => rmdirSync(cwd));
    const err = await sv.run({ id: 'r4', process: { args: ['true'], cwd } }).catch((e: unknown) => e);
    sub.unsubscribe();
    expect(err).toMatchObject({ message: expect.stringContaining('cannot start init of r4') });
    expect(sv.list()).toEqual([]);
    expect(brief(await storedEvents(sv))).toEqual(['create', 'delete']);
    await expect(sv.run({ id: 'r5', process: { args: ['true'] }, timeoutMs: 0 })).rejects.toMatchObject({ code: 'invalid-spec' });
    await expect(sv.run({ id: 'r5', process: { args: ['true'] }, remove: 'yes' as never })).rejects.toMatchObject({ code: 'invalid-spec' });
    expect(sv.list()).toEqual([]);
  });
});

describe('runExec', () => {
  it('waits for the exec; a timeout kills it with reason timeout and the container runs on', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 'x', process: { args: ['sleep', '30'] } });
    await sv.start('x');
    const slow = await sv.runExec('x', { execId: 'slow', args: ['sleep', '10'], timeoutMs: 1000 });
    expect(slow.exit).toMatchObject({ status: 137, signal: 'SIGKILL', reason: 'timeout' });
    const quick = await sv.runExec('x', { execId: 'quick', args: ['sh', '-c', 'exit 4'], timeoutMs: 10_000 });
    expect(quick.exit).toMatchObject({ status: 4 });
    expect(sv.get('x').status).toBe('running');
    const exits = (await storedEvents(sv, { id: 'x' })).filter((e) => e.type === 'exit');
    expect(exits.map((e) => [e.processId, e.status, e.reason])).toEqual([
      ['slow', 137, 'timeout'],
      ['quick', 4, undefined],
    ]);
    await expect(sv.exec('x', { execId: 'e', args: ['true'], timeoutMs: 5 } as never)).rejects.toMatchObject({ code: 'invalid-spec' });
  });

  it('a plain SIGKILL from the user carries no reason', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 'k', process: { args: ['sleep', '30'] } });
    await sv.start('k');
    await sv.signal('k', 'init', 'SIGKILL');
    expect((await sv.wait('k')).reason).toBeUndefined();
  });
});
