import { createActor, enqueueActions, setup, type ActorRefFrom, type AnyActorRef } from 'xstate';
import type { ErrorData } from '../errors.js';
import type { ContainerDetail, ExitInfo, JournalEntry, ContainerSpec, RestartPolicy } from '../types.js';
import { containerMachine, type ContainerMessage, type RestoredState } from './container.machine.js';
import type { ContainerRequest, Settlement } from './requests.js';

export type ContainerRef = ActorRefFrom<typeof containerMachine>;

export interface SupervisorContext {
  /**
   * The registry: one container actor per id, from create until delete (or a
   * failed create). A Map changed in place, and its actors made as this actor's
   * children without XState's `spawn`: a copy per create or delete (of the
   * registry, or of XState's children record, which `spawn` and `stopChild`
   * copy) would cost milliseconds each with thousands of containers.
   */
  containers: Map<string, ContainerRef>;
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
  /** close() is done: every container actor stops. */
  | { type: 'STOP' }
  | ContainerMessage;

/** The container logic this supervisor was given (its effects provided), found where XState's `spawn('container')` finds it. */
function containerLogic(self: AnyActorRef): typeof containerMachine {
  const { logic } = self as AnyActorRef & { logic: { implementations: { actors: { container: typeof containerMachine } } } };
  return logic.implementations.actors.container;
}

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
    known: ({ context, event }) => 'id' in event && context.containers.has(event.id),
  },
  actions: {
    /** Starts a container actor, new (CREATE) or restored (RESTORE), in the registry. */
    register: enqueueActions(({ context, event, self, enqueue }) => {
      if (event.type !== 'CREATE' && event.type !== 'RESTORE') return;
      const { id, spec, labels, createdAt, restart } = event;
      const input = event.type === 'CREATE' ? { requestId: event.requestId } : { restore: event.restore };
      const container = createActor(containerLogic(self), { id, parent: self, input: { id, spec, labels, createdAt, ...(restart ? { restart } : {}), ...input } });
      context.containers.set(id, container);
      // Started once this transition is taken, as `spawn` starts what it makes.
      enqueue(() => container.start());
    }),
    /** Hands a request, an exit or an OOM kill to the container it names (checked by `known`). */
    forward: enqueueActions(({ context, event, enqueue }) => {
      const container = context.containers.get((event as { id: string }).id)!;
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
  context: () => ({ containers: new Map() }),
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
        const gone = context.containers.get(event.id);
        context.containers.delete(event.id);
        if (gone) enqueue.stopChild(gone);
      }),
    },
    /** The supervisor is done: its container actors stop (they are not XState's spawned children, which stop with it). */
    STOP: {
      actions: enqueueActions(({ context, enqueue }) => {
        for (const container of context.containers.values()) enqueue.stopChild(container);
        context.containers.clear();
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
            guard: ({ context, event }) => context.containers.has(event.id),
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
            for (const container of context.containers.values()) enqueue.sendTo(container, { type: 'CLOSE' });
          }),
        },
      },
    },
    closing: {},
  },
});
