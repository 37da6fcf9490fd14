import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { supervisorMachine } from '../../src/machines/supervisor.machine.js';
import type { Settlement } from '../../src/machines/requests.js';

const exitedInit = { status: 'exited' as const, pid: 1, exit: { status: 0, exitedAt: new Date(0) } };
const container = { spec: { args: ['true'], env: {}, cwd: '/' }, labels: {}, createdAt: new Date(0) };

describe('the supervisor statechart', () => {
  it('restores before it serves, and creates nothing once closing', () => {
    const settled: Settlement[] = [];
    const actor = createActor(
      supervisorMachine.provide({ actions: { record: () => {}, settle: (_, { settlement }) => settled.push(settlement) } }),
    ).start();
    expect(actor.getSnapshot().value).toBe('restoring');
    actor.send({ type: 'RESTORE', id: 'old', ...container, restore: { status: 'exited', processes: { init: exitedInit }, startedWhileDown: [] } });
    expect([...actor.getSnapshot().context.containers.keys()]).toEqual(['old']);

    actor.send({ type: 'RESTORED' });
    expect(actor.getSnapshot().value).toBe('serving');
    actor.send({ type: 'CREATE', requestId: 2, id: 'old', ...container });
    expect(settled).toEqual([{ requestId: 2, error: { code: 'already-exists', message: 'container old already exists' } }]);
    // Restore is over: a late RESTORE registers nothing.
    actor.send({ type: 'RESTORE', id: 'late', ...container, restore: { status: 'exited', processes: { init: exitedInit }, startedWhileDown: [] } });
    expect([...actor.getSnapshot().context.containers.keys()]).toEqual(['old']);

    actor.send({ type: 'CLOSE' });
    expect(actor.getSnapshot().value).toBe('closing');
    // Requests still reach containers while closing: an unknown one is answered.
    actor.send({ type: 'REQUEST', id: 'nope', request: { kind: 'delete', requestId: 3 } });
    expect(settled.at(-1)).toEqual({ requestId: 3, error: { code: 'not-found', message: 'container nope not found' } });
    actor.stop();
  });
});
