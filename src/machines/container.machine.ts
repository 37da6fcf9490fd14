import { and, assign, enqueueActions, fromPromise, setup } from 'xstate';
import { toErrorData, type ErrorData } from '../errors.js';
import type { ContainerStatus, ContainerDetail, ExitInfo, JournalEntry, ContainerSpec } from '../types.js';
import { processMachine } from './process.machine.js';
import { refusal, type ContainerRequest, type ProcessRecord, type Settlement } from './requests.js';

const INIT = 'init';

/** A container as the journal last published it, and what restore found happened since. */
export interface RestoredState {
  status: 'created' | 'running' | 'paused' | 'exited';
  processes: Record<string, ProcessRecord>;
  /** Processes that started while no supervisor ran: their start is journaled on boot. */
  startedWhileDown: { processId: string; pid: number }[];
}

export interface ContainerInput {
  id: string;
  spec: ContainerSpec;
  labels: Record<string, string>;
  createdAt: Date;
  /** A new container: the API call waiting for it to be created. */
  requestId?: number;
  /** A container restored after a restart. */
  restore?: RestoredState;
}

/** Result of the runtime operation at the head of the queue, waiting for the lifecycle to apply it. */
type Outcome = { request: ContainerRequest; output: OpOutput };

export interface ContainerContext {
  id: string;
  spec: ContainerSpec;
  labels: Record<string, string>;
  createdAt: Date;
  status: ContainerStatus;
  /** init and every exec, in the order they were created. The source of truth for ordering decisions. */
  processes: Record<string, ProcessRecord>;
  /** Pending runtime operations; the head is the one running (or about to run). */
  queue: ContainerRequest[];
  outcome?: Outcome;
  /** init has been reaped; this exit is published once every exec's exit is. */
  initExit?: ExitInfo;
  /** Restore only: starts that happened while no supervisor ran, journaled on boot. */
  startedWhileDown: { processId: string; pid: number }[];
  /** An OOM kill reported before the start was journaled; journaled right after it. */
  pendingOom?: boolean;
}

export interface OpInput {
  id: string;
  spec: ContainerSpec;
  request: ContainerRequest;
  /** For 'kill-execs': the execs running when the operation starts. */
  liveExecs: string[];
}

export interface OpOutput {
  pid?: number;
  /** When a started process was exec'd, if the runtime saw it: the time its start row carries. */
  startedAt?: Date;
  /** What a query-like operation (stats, checkpoint) answers. */
  value?: unknown;
}

export type ContainerEvent =
  | { type: 'REQUEST'; request: ContainerRequest }
  | { type: 'OOM' }
  | { type: 'EXITED'; processId: string; exit: ExitInfo };

/** Messages a container sends its supervisor. */
export type ContainerMessage =
  | { type: 'RECORD'; entry: JournalEntry; detail?: ContainerDetail }
  | { type: 'SETTLE'; settlement: Settlement }
  | { type: 'GONE'; id: string };

const record = (entry: JournalEntry, detail?: ContainerDetail): ContainerMessage =>
  detail ? { type: 'RECORD', entry, detail } : { type: 'RECORD', entry };
const settle = (settlement: Settlement): ContainerMessage => ({ type: 'SETTLE', settlement });
const fail = (requestId: number | undefined, error: ErrorData): ContainerMessage[] =>
  requestId === undefined ? [] : [settle({ requestId, error })];

function liveExecs(processes: Record<string, ProcessRecord>): string[] {
  return Object.entries(processes)
    .filter(([pid, proc]) => pid !== INIT && proc.status !== 'exited')
    .map(([pid]) => pid);
}

function exitEntry(id: string, processId: string, exit: ExitInfo): JournalEntry {
  return {
    type: 'exit',
    id,
    processId,
    from: 'running',
    to: 'exited',
    status: exit.status,
    ...(exit.signal ? { signal: exit.signal } : {}),
    ...(exit.reason ? { reason: exit.reason } : {}),
    time: exit.exitedAt,
  };
}

function withExit(processes: Record<string, ProcessRecord>, processId: string, exit: ExitInfo): Record<string, ProcessRecord> {
  return { ...processes, [processId]: { status: 'exited', pid: processes[processId]?.pid, exit } };
}

const bootsAs = (status: ContainerStatus) => ({ context }: { context: ContainerContext }) => context.status === status;

const outcomeIs = (kind: ContainerRequest['kind']) => ({ context }: { context: ContainerContext }) =>
  context.outcome?.request.kind === kind;

/**
 * A container: creating → created → running ⇄ paused → stopping → exited → deleted.
 *
 * Two regions run side by side. `ops` performs runtime operations strictly one at a
 * time, in arrival order, each checked against the state it meets at the head of
 * the queue. `lifecycle` applies their outcomes and the process exits, and is the
 * one room where the ordering guarantees live:
 * - a start is journaled before any exit (an early exit waits in `pendingExit`);
 * - once init is reaped (`stopping`), execs are refused, running ones are killed,
 *   and init's exit is journaled only after every exec's exit.
 */
export const containerMachine = setup({
  types: {
    input: {} as ContainerInput,
    context: {} as ContainerContext,
    events: {} as ContainerEvent,
  },
  actors: {
    process: processMachine,
    /** Performs one runtime operation; provided by the runtime adapter. */
    runOp: fromPromise<OpOutput, OpInput>(async () => {
      throw new Error('runOp is provided by the supervisor');
    }),
  },
  guards: {
    headRefused: ({ context }) =>
      context.queue.length > 0 &&
      refusal(context.id, context.status, context.processes, context.queue[0]!) !== undefined,
    hasQueued: ({ context }) => context.queue.length > 0,
    noOutcome: ({ context }) => context.outcome === undefined,
    isInitExit: ({ event }) => event.type === 'EXITED' && event.processId === INIT,
    initExitPending: ({ context }) => context.processes[INIT]?.pendingExit !== undefined,
    execsSettled: ({ context }) => liveExecs(context.processes).length === 0,
    bootsCreating: bootsAs('creating'),
    bootsCreated: bootsAs('created'),
    bootsRunning: bootsAs('running'),
    bootsPaused: bootsAs('paused'),
    createDone: outcomeIs('create'),
    startDone: outcomeIs('start'),
    pauseDone: outcomeIs('pause'),
    resumeDone: outcomeIs('resume'),
    deleteDone: outcomeIs('delete'),
  },
  actions: {
    enqueue: assign({
      queue: ({ context, event }) => (event.type === 'REQUEST' ? [...context.queue, event.request] : context.queue),
    }),
    dequeue: assign({ queue: ({ context }) => context.queue.slice(1) }),
    clearOutcome: assign({ outcome: undefined }),
    refuseHead: enqueueActions(({ context, enqueue }) => {
      const head = context.queue[0]!;
      const error = refusal(context.id, context.status, context.processes, head)!;
      for (const message of fail(head.requestId, error)) enqueue.sendParent(message);
    }),
    /** An exec gets its process actor (and record) before the runtime starts it. */
    beginOp: enqueueActions(({ context, enqueue }) => {
      const head = context.queue[0]!;
      if (head.kind !== 'exec') return;
      enqueue.assign({ processes: { ...context.processes, [head.execId]: { status: 'created' } } });
      enqueue.spawnChild('process', { id: head.execId, input: { containerId: context.id, processId: head.execId } });
    }),
    /** Outcomes that do not move the lifecycle are applied here; the rest wait in `outcome`. */
    opSucceeded: enqueueActions(({ context, event, enqueue }) => {
      const request = context.queue[0]!;
      const output = (event as unknown as { output: OpOutput }).output;
      if (request.kind === 'exec') {
        const proc = context.processes[request.execId]!;
        const started = { ...context.processes, [request.execId]: { status: 'running' as const, pid: output.pid } };
        enqueue.assign({ processes: started });
        enqueue.sendParent(
          record({
            type: 'start-process',
            id: context.id,
            processId: request.execId,
            from: 'created',
            to: 'running',
            pid: output.pid,
            ...(output.startedAt ? { time: output.startedAt } : {}),
          }),
        );
        enqueue.sendParent(settle({ requestId: request.requestId, value: { pid: output.pid } }));
        enqueue.sendTo(request.execId, { type: 'STARTED', pid: output.pid! });
        if (proc.pendingExit) {
          // It exited before we knew it had started: its exit follows its start at once.
          enqueue.assign({ processes: withExit(started, request.execId, proc.pendingExit) });
          enqueue.sendParent(record(exitEntry(context.id, request.execId, proc.pendingExit)));
          enqueue.sendTo(request.execId, { type: 'EXITED', exit: proc.pendingExit });
        }
      } else if (request.kind === 'signal' || request.kind === 'update' || request.kind === 'stats' || request.kind === 'checkpoint') {
        enqueue.sendParent(settle({ requestId: request.requestId, value: output.value }));
      } else if (request.kind !== 'kill-execs') {
        enqueue.assign({ outcome: { request, output } });
      }
    }),
    opFailed: enqueueActions(({ context, event, enqueue }) => {
      const request = context.queue[0]!;
      const error = toErrorData((event as unknown as { error: unknown }).error);
      for (const message of fail(request.requestId, error)) enqueue.sendParent(message);
      if (request.kind === 'exec') {
        const { [request.execId]: _dropped, ...rest } = context.processes;
        enqueue.assign({ processes: rest });
        enqueue.stopChild(request.execId);
      } else if (request.kind === 'create') {
        enqueue.sendParent({ type: 'GONE', id: context.id } satisfies ContainerMessage);
      }
    }),
    publishExecExit: enqueueActions(({ context, enqueue }, params: { processId: string; exit: ExitInfo }) => {
      enqueue.assign({ processes: withExit(context.processes, params.processId, params.exit) });
      enqueue.sendParent(record(exitEntry(context.id, params.processId, params.exit)));
      enqueue.sendTo(params.processId, { type: 'EXITED', exit: params.exit });
    }),
    /** An exit that overtook its own start: held until the start is journaled. */
    holdExit: assign({
      processes: ({ context, event }) => {
        if (event.type !== 'EXITED') return context.processes;
        const proc = context.processes[event.processId]!;
        return { ...context.processes, [event.processId]: { ...proc, pendingExit: event.exit } };
      },
    }),
    recordCreate: enqueueActions(({ context, enqueue }) => {
      const detail = { spec: context.spec, labels: context.labels, createdAt: context.createdAt };
      enqueue.sendParent(record({ type: 'create', id: context.id, to: 'created', time: context.createdAt }, detail));
      enqueue.sendParent(settle({ requestId: context.outcome!.request.requestId! }));
    }),
    recordStart: enqueueActions(({ context, enqueue }) => {
      const { pid, startedAt } = context.outcome!.output as { pid: number; startedAt?: Date };
      const init = context.processes[INIT]!;
      enqueue.assign({ processes: { ...context.processes, [INIT]: { ...init, status: 'running', pid } } });
      enqueue.sendParent(
        record({
          type: 'start-container',
          id: context.id,
          processId: INIT,
          from: 'created',
          to: 'running',
          pid,
          ...(startedAt ? { time: startedAt } : {}),
        }),
      );
      enqueue.sendParent(settle({ requestId: context.outcome!.request.requestId!, value: { pid } }));
      enqueue.sendTo(INIT, { type: 'STARTED', pid });
      if (context.pendingOom) {
        enqueue.sendParent(record({ type: 'oom', id: context.id }));
        enqueue.assign({ pendingOom: false });
      }
    }),
    recordTransition: enqueueActions(
      ({ context, enqueue }, params: { type: 'pause' | 'resume' | 'delete'; from: ContainerStatus; to: ContainerStatus }) => {
        enqueue.sendParent(record({ type: params.type, id: context.id, from: params.from, to: params.to }));
        enqueue.sendParent(settle({ requestId: context.outcome!.request.requestId! }));
      },
    ),
    recordOom: enqueueActions(({ context, enqueue }) => {
      enqueue.sendParent(record({ type: 'oom', id: context.id }));
    }),
    noteInitExit: assign({
      initExit: ({ context, event }) => (event.type === 'EXITED' ? event.exit : context.initExit),
    }),
    adoptPendingInitExit: assign({
      initExit: ({ context }) => context.processes[INIT]!.pendingExit,
    }),
    /** Like the kernel when a PID namespace's init dies: no exec may outlive it. */
    killExecs: enqueueActions(({ context, enqueue }) => {
      if (liveExecs(context.processes).length === 0) return;
      enqueue.assign({ queue: [...context.queue, { kind: 'kill-execs', execIds: [] }] });
    }),
    publishInitExit: enqueueActions(({ context, enqueue }) => {
      const exit = context.initExit!;
      enqueue.assign({ processes: withExit(context.processes, INIT, exit) });
      enqueue.sendParent(record(exitEntry(context.id, INIT, exit)));
      enqueue.sendTo(INIT, { type: 'EXITED', exit });
    }),
    /**
     * Gives every process its actor, in the state the journal last published (a
     * restored container's processes replay their lifecycle), then journals the
     * starts that happened while no supervisor ran.
     */
    bootProcesses: enqueueActions(({ context, enqueue }) => {
      for (const [processId, proc] of Object.entries(context.processes)) {
        enqueue.spawnChild('process', { id: processId, input: { containerId: context.id, processId } });
        if (proc.status !== 'created') enqueue.sendTo(processId, { type: 'STARTED', pid: proc.pid ?? 0 });
        if (proc.exit) enqueue.sendTo(processId, { type: 'EXITED', exit: proc.exit });
      }
      let processes = context.processes;
      for (const { processId, pid } of context.startedWhileDown) {
        if (!Object.hasOwn(processes, processId)) enqueue.spawnChild('process', { id: processId, input: { containerId: context.id, processId } });
        processes = { ...processes, [processId]: { status: 'running', pid } };
        const type = processId === INIT ? 'start-container' : 'start-process';
        enqueue.sendParent(record({ type, id: context.id, processId, from: 'created', to: 'running', pid }));
        enqueue.sendTo(processId, { type: 'STARTED', pid });
      }
      const initStarted = context.startedWhileDown.some((s) => s.processId === INIT);
      enqueue.assign({
        processes,
        startedWhileDown: [],
        ...(initStarted && context.status === 'created' ? { status: 'running' as const } : {}),
      });
    }),
    releaseProcesses: enqueueActions(({ context, enqueue }) => {
      for (const processId of Object.keys(context.processes)) enqueue.sendTo(processId, { type: 'DELETE' });
      enqueue.sendParent({ type: 'GONE', id: context.id } satisfies ContainerMessage);
    }),
  },
}).createMachine({
  id: 'container',
  type: 'parallel',
  context: ({ input }) => ({
    id: input.id,
    spec: input.spec,
    labels: input.labels,
    createdAt: input.createdAt,
    status: input.restore?.status ?? 'creating',
    processes: input.restore?.processes ?? { [INIT]: { status: 'created' } },
    queue: input.restore ? [] : [{ kind: 'create', requestId: input.requestId! }],
    startedWhileDown: input.restore?.startedWhileDown ?? [],
  }),
  on: {
    REQUEST: { actions: 'enqueue' },
    // Like an early exit, an OOM kill seen before the start is journaled waits for it.
    OOM: [
      { guard: ({ context }) => context.status === 'creating' || context.status === 'created', actions: assign({ pendingOom: true }) },
      { actions: 'recordOom' },
    ],
    // Exits the lifecycle region does not take itself (see `running` and `paused` for init's).
    EXITED: [
      {
        guard: ({ context, event }) => context.processes[event.processId]?.status === 'created',
        actions: 'holdExit',
      },
      {
        guard: ({ context, event }) => event.processId !== INIT && context.processes[event.processId]?.status === 'running',
        actions: {
          type: 'publishExecExit',
          params: ({ event }) => ({ processId: event.processId, exit: event.exit }),
        },
      },
    ],
  },
  states: {
    ops: {
      initial: 'idle',
      states: {
        idle: {
          // Waits while an outcome is unapplied, so the next request is judged against the new state.
          always: [
            { guard: and(['noOutcome', 'headRefused']), actions: ['refuseHead', 'dequeue'] },
            { guard: and(['noOutcome', 'hasQueued']), target: 'busy' },
          ],
        },
        busy: {
          entry: 'beginOp',
          invoke: {
            src: 'runOp',
            input: ({ context }) => ({
              id: context.id,
              spec: context.spec,
              request: context.queue[0]!,
              liveExecs: liveExecs(context.processes),
            }),
            onDone: { target: 'idle', actions: ['opSucceeded', 'dequeue'] },
            onError: { target: 'idle', actions: ['opFailed', 'dequeue'] },
          },
        },
      },
    },
    lifecycle: {
      initial: 'booting',
      states: {
        /** A new container goes on to be created; a restored one resumes where the journal left it. */
        booting: {
          entry: 'bootProcesses',
          always: [
            { guard: 'bootsCreating', target: 'creating' },
            { guard: 'bootsCreated', target: 'created' },
            { guard: 'bootsRunning', target: 'running' },
            { guard: 'bootsPaused', target: 'paused' },
            { target: 'exited' },
          ],
        },
        creating: {
          entry: assign({ status: 'creating' }),
          always: { guard: 'createDone', target: 'created', actions: ['recordCreate', 'clearOutcome'] },
        },
        created: {
          entry: assign({ status: 'created' }),
          always: [
            { guard: 'startDone', target: 'running', actions: ['recordStart', 'clearOutcome'] },
            {
              guard: 'deleteDone',
              target: 'deleted',
              actions: [{ type: 'recordTransition', params: { type: 'delete', from: 'created', to: 'deleted' } }, 'clearOutcome'],
            },
          ],
        },
        running: {
          entry: assign({ status: 'running' }),
          always: [
            { guard: 'initExitPending', target: 'stopping', actions: 'adoptPendingInitExit' },
            {
              guard: 'pauseDone',
              target: 'paused',
              actions: [{ type: 'recordTransition', params: { type: 'pause', from: 'running', to: 'paused' } }, 'clearOutcome'],
            },
          ],
          on: { EXITED: { guard: 'isInitExit', target: 'stopping', actions: 'noteInitExit' } },
        },
        paused: {
          entry: assign({ status: 'paused' }),
          always: {
            guard: 'resumeDone',
            target: 'running',
            actions: [{ type: 'recordTransition', params: { type: 'resume', from: 'paused', to: 'running' } }, 'clearOutcome'],
          },
          on: { EXITED: { guard: 'isInitExit', target: 'stopping', actions: 'noteInitExit' } },
        },
        stopping: {
          entry: [assign({ status: 'stopping' }), 'killExecs'],
          always: { guard: 'execsSettled', target: 'exited', actions: 'publishInitExit' },
        },
        exited: {
          entry: assign({ status: 'exited' }),
          always: {
            guard: 'deleteDone',
            target: 'deleted',
            actions: [{ type: 'recordTransition', params: { type: 'delete', from: 'exited', to: 'deleted' } }, 'clearOutcome'],
          },
        },
        deleted: {
          type: 'final',
          entry: [assign({ status: 'deleted' }), 'releaseProcesses'],
        },
      },
    },
  },
});
