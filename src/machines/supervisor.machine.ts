import { assign, enqueueActions, setup, type ActorRefFrom } from 'xstate';
import type { ErrorData } from '../errors.js';
import type { ContainerDetail, ExitInfo, JournalEntry, ContainerSpec, RestartPolicy } from '../types.js';
import { containerMachine, type ContainerMessage, type RestoredState } from './container.machine.js';
import type { ContainerRequest, Settlement } from './requests.js';

export type ContainerRef = ActorRefFrom<typeof containerMachine>;

export interface SupervisorContext {
  /** The registry: one container actor per id, from create until delete (or a failed create). */
  containers: Record<string, ContainerRef>;
}

export type SupervisorEvent =
  | {
      type: 'CREATE';
      requestId: number;
      id: string;
      spec: ContainerSpec;
      labels: Record<string, string>;
      createdAt: Date;
      restart?: RestartPolicy;
    }
  | {
      type: 'RESTORE';
      id: string;
      spec: ContainerSpec;
      labels: Record<string, string>;
      createdAt: Date;
      restart?: RestartPolicy;
      restore: RestoredState;
    }
  | { type: 'QUARANTINED'; id: string; reason: string }
  | { type: 'REQUEST'; id: string; request: ContainerRequest }
  | { type: 'EXITED'; id: string; processId: string; exit: ExitInfo }
  | { type: 'OOM'; id: string }
  /** Every container the journal knows has been re-adopted: API calls may come. */
  | { type: 'RESTORED' }
  /** close() has begun: no new container from here on. */
  | { type: 'CLOSE' }
  | ContainerMessage;

const notFound = (id: string): ErrorData => ({ code: 'not-found', message: `container ${id} not found` });

/**
 * The root actor: owns the registry and is the single writer of the journal.
 * Containers report every decided transition here (RECORD) and every answer to
 * an API call (SETTLE); both go out in the order the containers sent them, so an
 * answer is never given before the transition it reports is journaled.
 *
 * restoring → serving → closing: restore re-adopts what the journal knows before
 * any API call is served, and from close() on no container is created, while the
 * ones still alive go on reporting their exits.
 */
export const supervisorMachine = setup({
  types: {
    context: {} as SupervisorContext,
    events: {} as SupervisorEvent,
  },
  actors: { container: containerMachine },
  guards: {
    /** The event names a container in the registry. */
    known: ({ context, event }) => 'id' in event && Object.hasOwn(context.containers, event.id),
  },
  actions: {
    /** Spawns a container actor, new (CREATE) or restored (RESTORE), into the registry. */
    register: assign({
      containers: ({ context, event, spawn }) => {
        if (event.type !== 'CREATE' && event.type !== 'RESTORE') return context.containers;
        const { id, spec, labels, createdAt, restart } = event;
        const input = event.type === 'CREATE' ? { requestId: event.requestId } : { restore: event.restore };
        return { ...context.containers, [id]: spawn('container', { id, input: { id, spec, labels, createdAt, ...(restart ? { restart } : {}), ...input } }) };
      },
    }),
    /** Hands a request, an exit or an OOM kill to the container it names (checked by `known`). */
    forward: enqueueActions(({ context, event, enqueue }) => {
      const container = context.containers[(event as { id: string }).id]!;
      if (event.type === 'REQUEST') enqueue.sendTo(container, { type: 'REQUEST', request: event.request });
      else if (event.type === 'EXITED') enqueue.sendTo(container, { type: 'EXITED', processId: event.processId, exit: event.exit });
      else if (event.type === 'OOM') enqueue.sendTo(container, { type: 'OOM' });
    }),
    /** Appends to the journal; provided by the supervisor. */
    record: (_, _params: { entry: JournalEntry; detail?: ContainerDetail }) => {},
    /** Answers an API call once the journal has committed what came before; provided by the supervisor. */
    settle: (_, _params: { settlement: Settlement }) => {},
  },
}).createMachine({
  id: 'supervisor',
  context: { containers: {} },
  initial: 'restoring',
  // Containers talk to their supervisor, and their requests and exits reach them, whatever its state.
  on: {
    REQUEST: [
      { guard: 'known', actions: 'forward' },
      {
        guard: ({ event }) => event.request.requestId !== undefined,
        actions: {
          type: 'settle',
          params: ({ event }) => ({ settlement: { requestId: event.request.requestId!, error: notFound(event.id) } }),
        },
      },
    ],
    EXITED: { guard: 'known', actions: 'forward' },
    OOM: { guard: 'known', actions: 'forward' },
    RECORD: { actions: { type: 'record', params: ({ event }) => ({ entry: event.entry, detail: event.detail }) } },
    SETTLE: { actions: { type: 'settle', params: ({ event }) => ({ settlement: event.settlement }) } },
    GONE: {
      actions: enqueueActions(({ context, event, enqueue }) => {
        const { [event.id]: gone, ...rest } = context.containers;
        if (gone) enqueue.stopChild(gone);
        enqueue.assign({ containers: rest });
      }),
    },
  },
  states: {
    restoring: {
      on: {
        /** A container from before a restart, resuming where the journal left it (see `booting`). */
        RESTORE: { actions: 'register' },
        /** A container directory restore could not load was moved aside: journaled, not silently dropped. */
        QUARANTINED: {
          actions: {
            type: 'record',
            params: ({ event }) => ({ entry: { type: 'quarantine' as const, id: event.id, reason: event.reason } }),
          },
        },
        RESTORED: 'serving',
      },
    },
    serving: {
      on: {
        CREATE: [
          {
            guard: ({ context, event }) => Object.hasOwn(context.containers, event.id),
            actions: {
              type: 'settle',
              params: ({ event }) => ({
                settlement: {
                  requestId: event.requestId,
                  error: { code: 'already-exists', message: `container ${event.id} already exists` },
                },
              }),
            },
          },
          { actions: 'register' },
        ],
        CLOSE: {
          target: 'closing',
          // What close() kills is not restarted, and no pending restart begins.
          actions: enqueueActions(({ context, enqueue }) => {
            for (const container of Object.values(context.containers)) enqueue.sendTo(container, { type: 'CLOSE' });
          }),
        },
      },
    },
    closing: {},
  },
});
