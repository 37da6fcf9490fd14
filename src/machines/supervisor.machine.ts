import { assign, enqueueActions, setup, type ActorRefFrom } from 'xstate';
import type { ErrorData } from '../errors.js';
import type { ContainerDetail, ExitInfo, JournalEntry, ContainerSpec } from '../types.js';
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
    }
  | {
      type: 'RESTORE';
      id: string;
      spec: ContainerSpec;
      labels: Record<string, string>;
      createdAt: Date;
      restore: RestoredState;
    }
  | { type: 'QUARANTINED'; id: string; reason: string }
  | { type: 'REQUEST'; id: string; request: ContainerRequest }
  | { type: 'EXITED'; id: string; processId: string; exit: ExitInfo }
  | { type: 'OOM'; id: string }
  | ContainerMessage;

const notFound = (id: string): ErrorData => ({ code: 'not-found', message: `container ${id} not found` });

/**
 * The root actor: owns the registry and is the single writer of the journal.
 * Containers report every decided transition here (RECORD) and every answer to
 * an API call (SETTLE); both go out in the order the containers sent them, so an
 * answer is never given before the transition it reports is journaled.
 */
export const supervisorMachine = setup({
  types: {
    context: {} as SupervisorContext,
    events: {} as SupervisorEvent,
  },
  actors: { container: containerMachine },
  actions: {
    /** Appends to the journal; provided by the supervisor. */
    record: (_, _params: { entry: JournalEntry; detail?: ContainerDetail }) => {},
    /** Answers an API call once the journal has committed what came before; provided by the supervisor. */
    settle: (_, _params: { settlement: Settlement }) => {},
  },
}).createMachine({
  id: 'supervisor',
  context: { containers: {} },
  initial: 'serving',
  states: {
    serving: {
      on: {
        CREATE: [
          {
            guard: ({ context, event }) => event.id in context.containers,
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
          {
            actions: assign({
              containers: ({ context, event, spawn }) => ({
                ...context.containers,
                [event.id]: spawn('container', {
                  id: event.id,
                  input: {
                    id: event.id,
                    spec: event.spec,
                    labels: event.labels,
                    createdAt: event.createdAt,
                    requestId: event.requestId,
                  },
                }),
              }),
            }),
          },
        ],
        REQUEST: {
          actions: enqueueActions(({ context, event, enqueue }) => {
          const container = context.containers[event.id];
          if (container) enqueue.sendTo(container, { type: 'REQUEST', request: event.request });
          else if (event.request.requestId !== undefined) {
            enqueue({ type: 'settle', params: { settlement: { requestId: event.request.requestId, error: notFound(event.id) } } });
          }
          }),
        },
        EXITED: {
          actions: enqueueActions(({ context, event, enqueue }) => {
          const container = context.containers[event.id];
          if (container) enqueue.sendTo(container, { type: 'EXITED', processId: event.processId, exit: event.exit });
          }),
        },
        /** A container from before a restart, resuming where the journal left it (see `booting`). */
        RESTORE: {
          actions: assign({
            containers: ({ context, event, spawn }) => ({
              ...context.containers,
              [event.id]: spawn('container', {
                id: event.id,
                input: { id: event.id, spec: event.spec, labels: event.labels, createdAt: event.createdAt, restore: event.restore },
              }),
            }),
          }),
        },
        /** A container directory restore could not load was moved aside: journaled, not silently dropped. */
        QUARANTINED: {
          actions: {
            type: 'record',
            params: ({ event }) => ({ entry: { type: 'quarantine' as const, id: event.id, reason: event.reason } }),
          },
        },
        OOM: {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const container = context.containers[event.id];
            if (container) enqueue.sendTo(container, { type: 'OOM' });
          }),
        },
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
    },
  },
});
