import { and, assign, enqueueActions, fromPromise, raise, setup } from 'xstate';
import { toErrorData, type ErrorData } from '../errors.js';
import type { ContainerStatus, ContainerDetail, ExitInfo, JournalEntry, ContainerSpec, RestartPolicy } from '../types.js';
import { processMachine } from './process.machine.js';
import { refusal, type ContainerRequest, type ProcessRecord, type Settlement } from './requests.js';
import { nextDelay, NO_RESTARTS, restartDue, type RestartState } from './restart-policy.js';

const INIT = 'init';

/** A container as the journal last published it, and what restore found happened since. */
export interface RestoredState {
  status: 'created' | 'running' | 'paused' | 'restarting' | 'exited';
  processes: Record<string, ProcessRecord>;
  /** Processes that started while no supervisor ran: their start is journaled on boot. */
  startedWhileDown: { processId: string; pid: number }[];
  /** Where the restart policy stood (a pending restart's `pendingDelayMs` is what is left of its wait). */
  restarts?: RestartState;
}

export interface ContainerInput {
  id: string;
  spec: ContainerSpec;
  labels: Record<string, string>;
  createdAt: Date;
  restart?: RestartPolicy;
  /** A new container: the API call waiting for it to be created. */
  requestId?: number;
  /** A container restored after a restart. */
  restore?: RestoredState;
}

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
  /** init has been reaped; this exit is published once every exec's exit is. */
  initExit?: ExitInfo;
  /** Restore only: starts that happened while no supervisor ran, journaled on boot. */
  startedWhileDown: { processId: string; pid: number }[];
  /** An OOM kill reported before the start was journaled; journaled right after it. */
  pendingOom?: boolean;
  restart?: RestartPolicy;
  restarts: RestartState;
  /** The supervisor is closing: what it kills is not restarted, and no restart begins. */
  closing?: boolean;
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

/** The operations that move the lifecycle, and the event `ops` raises for the lifecycle once one has succeeded. */
const OUTCOMES = { create: 'CREATED', start: 'STARTED', pause: 'PAUSED', resume: 'RESUMED', delete: 'DELETED', retire: 'RETIRED', restart: 'RESTARTED' } as const;
const DOING = { create: 'creating', start: 'starting', pause: 'pausing', resume: 'resuming', delete: 'deleting', retire: 'restarting', restart: 'restarting' } as const;
type LifecycleRequest = Extract<ContainerRequest, { kind: keyof typeof OUTCOMES }>;

/** A runtime operation that moves the lifecycle has succeeded: raised by `ops`, taken by `lifecycle`. */
export type OutcomeEvent = { type: (typeof OUTCOMES)[LifecycleRequest['kind']]; request: LifecycleRequest; output: OpOutput };

export type ContainerEvent =
  | { type: 'REQUEST'; request: ContainerRequest }
  | { type: 'OOM' }
  | { type: 'EXITED'; processId: string; exit: ExitInfo }
  /** The supervisor is closing. */
  | { type: 'CLOSE' }
  /** The runtime could not retire init's last generation or start the next: the policy ends. */
  | { type: 'RESTART_FAILED'; error: ErrorData }
  | OutcomeEvent;

/** The outcome a lifecycle transition applies (only outcome events reach the actions that call this). */
const outcomeOf = (event: ContainerEvent) => event as OutcomeEvent;

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
/** Internal requests (a restart) have no caller to answer. */
const answer = (requestId: number | undefined, value?: unknown): ContainerMessage[] =>
  requestId === undefined ? [] : [settle({ requestId, value })];

const STOPPED_BY_USER = 'stopped by the user';

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

/** The exit as published: one caused by a kill berth made for a reason (a timeout) says so. */
function explained(proc: ProcessRecord | undefined, exit: ExitInfo): ExitInfo {
  const kill = proc?.killedFor;
  return kill && exit.reason === undefined && exit.status === kill.status ? { ...exit, reason: kill.reason } : exit;
}

function withExit(processes: Record<string, ProcessRecord>, processId: string, exit: ExitInfo): Record<string, ProcessRecord> {
  return { ...processes, [processId]: { status: 'exited', pid: processes[processId]?.pid, exit } };
}

/** init's start (or restart) is journaled; if init exited before that, its exit follows at once. */
const initStarted = (from: 'created' | 'restarting') =>
  [
    {
      guard: 'initExitPending',
      target: '#container.lifecycle.stopping',
      actions: [{ type: 'recordStart', params: { from } }, 'adoptPendingInitExit'],
    },
    { target: '#container.lifecycle.running', actions: { type: 'recordStart', params: { from } } },
  ] as const;

const bootsAs = (status: ContainerStatus) => ({ context }: { context: ContainerContext }) => context.status === status;

/** A user's signal to init ends the restart policy (Docker's "manually stopped"); the supervisor's own, at close, does not. */
const stopsPolicy = (context: ContainerContext, request: ContainerRequest) =>
  request.kind === 'signal' && request.processId === INIT && !context.closing;

/**
 * A container: creating → created → running ⇄ paused → stopping → exited → deleted.
 *
 * Two regions run side by side. `ops` performs runtime operations strictly one at a
 * time, in arrival order, each checked against the state it meets at the head of
 * the queue, and announces each success that moves the lifecycle as an event
 * (CREATED, STARTED, PAUSED, RESUMED, DELETED). `lifecycle` takes those events and
 * the process exits, and is the one room where the ordering guarantees live:
 * - a start is journaled before any exit (an early exit waits in `pendingExit`);
 * - once init is reaped (`stopping`), execs are refused, running ones are killed,
 *   and init's exit is journaled only after every exec's exit;
 * - a restart policy then takes init through `restarting`: its last generation is
 *   retired from the runtime, the `restart` row journaled, the backoff waited out
 *   (a delayed transition), and init started again, journaled as `start-container`.
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
    headMovesLifecycle: ({ context }) => context.queue[0]!.kind in OUTCOMES,
    isInitExit: ({ event }) => event.type === 'EXITED' && event.processId === INIT,
    initExitPending: ({ context }) => context.processes[INIT]?.pendingExit !== undefined,
    execsSettled: ({ context }) => liveExecs(context.processes).length === 0,
    bootsCreating: bootsAs('creating'),
    bootsCreated: bootsAs('created'),
    bootsRunning: bootsAs('running'),
    bootsPaused: bootsAs('paused'),
    bootsRestarting: bootsAs('restarting'),
    restartDue: ({ context }) => !context.closing && restartDue(context.restart, context.restarts, context.initExit),
    /** Opened on a container whose exit was journaled with no restart after it: the policy is asked again. */
    restartDueOnOpen: ({ context }) =>
      context.status === 'exited' && restartDue(context.restart, context.restarts, context.processes[INIT]?.exit, true),
    policyEnded: ({ context }) => context.restarts.ended,
    /** A delete waiting in the queue, or the supervisor closing, means the restart never comes. */
    restartMayBegin: ({ context }) => !context.closing && !context.queue.some((request) => request.kind === 'delete'),
  },
  delays: {
    backoff: ({ context }) => context.restarts.pendingDelayMs ?? 0,
  },
  actions: {
    enqueue: assign(({ context, event }) => {
      if (event.type !== 'REQUEST') return {};
      const ended = stopsPolicy(context, event.request) ? { restarts: { ...context.restarts, ended: true } } : {};
      return { queue: [...context.queue, event.request], ...ended };
    }),
    dequeue: assign({ queue: ({ context }) => context.queue.slice(1) }),
    refuseHead: enqueueActions(({ context, enqueue }) => {
      const head = context.queue[0]!;
      const error = refusal(context.id, context.status, context.processes, head)!;
      for (const message of fail(head.requestId, error)) enqueue.sendParent(message);
    }),
    /** An exec gets its process actor (and record) before the runtime starts it. */
    beginOp: enqueueActions(({ context, enqueue }) => {
      const head = context.queue[0]!;
      if (head.kind === 'signal' && head.reason) {
        // Marked before the signal goes out: its exit may be reported before the signal call returns.
        const proc = context.processes[head.processId]!;
        const killedFor = { reason: head.reason, status: 128 + head.signal.number };
        enqueue.assign({ processes: { ...context.processes, [head.processId]: { ...proc, killedFor } } });
      }
      if (head.kind !== 'exec') return;
      enqueue.assign({ processes: { ...context.processes, [head.execId]: { status: 'created' } } });
      enqueue.spawnChild('process', { id: head.execId, input: { containerId: context.id, processId: head.execId } });
    }),
    /** Tells the lifecycle what the operation at the head of the queue did. */
    announceOutcome: raise(({ context, event }) => {
      const request = context.queue[0] as LifecycleRequest; // headMovesLifecycle said so
      return { type: OUTCOMES[request.kind], request, output: (event as unknown as { output: OpOutput }).output };
    }),
    /** Successes that leave the lifecycle where it is. */
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
      } else {
        for (const message of answer(request.requestId, output.value)) enqueue.sendParent(message);
      }
    }),
    opFailed: enqueueActions(({ context, event, enqueue }) => {
      const request = context.queue[0]!;
      const error = toErrorData((event as unknown as { error: unknown }).error);
      for (const message of fail(request.requestId, error)) enqueue.sendParent(message);
      if (request.kind === 'signal' && request.reason && context.processes[request.processId]?.status === 'running') {
        const { killedFor: _failed, ...proc } = context.processes[request.processId]!;
        enqueue.assign({ processes: { ...context.processes, [request.processId]: proc } });
      } else if (request.kind === 'exec') {
        const { [request.execId]: _dropped, ...rest } = context.processes;
        enqueue.assign({ processes: rest });
        enqueue.stopChild(request.execId);
      } else if (request.kind === 'create') {
        enqueue.sendParent({ type: 'GONE', id: context.id } satisfies ContainerMessage);
      } else if (request.kind === 'retire' || request.kind === 'restart') {
        enqueue.raise({ type: 'RESTART_FAILED', error });
      }
    }),
    publishExecExit: enqueueActions(({ context, enqueue }, params: { processId: string; exit: ExitInfo }) => {
      const exit = explained(context.processes[params.processId], params.exit);
      enqueue.assign({ processes: withExit(context.processes, params.processId, exit) });
      enqueue.sendParent(record(exitEntry(context.id, params.processId, exit)));
      enqueue.sendTo(params.processId, { type: 'EXITED', exit });
    }),
    /** An exit that overtook its own start: held until the start is journaled. */
    holdExit: assign({
      processes: ({ context, event }) => {
        if (event.type !== 'EXITED') return context.processes;
        const proc = context.processes[event.processId]!;
        return { ...context.processes, [event.processId]: { ...proc, pendingExit: event.exit } };
      },
    }),
    recordCreate: enqueueActions(({ context, event, enqueue }) => {
      const detail = { spec: context.spec, labels: context.labels, createdAt: context.createdAt, ...(context.restart ? { restart: context.restart } : {}) };
      enqueue.sendParent(record({ type: 'create', id: context.id, to: 'created', time: context.createdAt }, detail));
      for (const message of answer(outcomeOf(event).request.requestId)) enqueue.sendParent(message);
    }),
    /** init runs: its first start (`from: 'created'`) or a restart (`from: 'restarting'`), a new generation. */
    recordStart: enqueueActions(({ context, event, enqueue }, params: { from: 'created' | 'restarting' }) => {
      const { request, output } = outcomeOf(event);
      const { pid, startedAt } = output as { pid: number; startedAt?: Date };
      const init = context.processes[INIT]!;
      enqueue.assign({
        processes: { ...context.processes, [INIT]: { ...init, status: 'running', pid } },
        initExit: undefined,
        restarts: { ...context.restarts, startedAt: startedAt ?? new Date(), pendingDelayMs: undefined },
      });
      enqueue.sendParent(
        record({
          type: 'start-container',
          id: context.id,
          processId: INIT,
          from: params.from,
          to: 'running',
          pid,
          ...(startedAt ? { time: startedAt } : {}),
        }),
      );
      for (const message of answer(request.requestId, { pid })) enqueue.sendParent(message);
      enqueue.sendTo(INIT, { type: 'STARTED', pid });
      if (context.pendingOom) {
        enqueue.sendParent(record({ type: 'oom', id: context.id }));
        enqueue.assign({ pendingOom: false });
      }
    }),
    recordTransition: enqueueActions(
      ({ context, event, enqueue }, params: { type: 'pause' | 'resume' | 'delete'; from: ContainerStatus; to: ContainerStatus }) => {
        enqueue.sendParent(record({ type: params.type, id: context.id, from: params.from, to: params.to }));
        for (const message of answer(outcomeOf(event).request.requestId)) enqueue.sendParent(message);
      },
    ),
    /** The last generation is retired from the runtime: the restart is journaled, with its attempt number and wait. */
    recordRestart: enqueueActions(({ context, enqueue }) => {
      const attempt = context.restarts.attempts + 1;
      const delayMs = nextDelay(context.restart!, context.restarts, context.initExit!);
      enqueue.assign({ restarts: { ...context.restarts, attempts: attempt, lastDelayMs: delayMs, pendingDelayMs: delayMs } });
      enqueue.sendParent(record({ type: 'restart', id: context.id, processId: INIT, from: 'exited', to: 'restarting', attempt, delayMs }));
    }),
    /**
     * The policy ends without a restart: journaled (in the commit of init's exit, when
     * that is what ended it) so that a reopened supervisor respects it too.
     */
    recordPolicyEnd: enqueueActions(({ context, enqueue }, params: { reason: string }) => {
      if (!context.restart) return;
      enqueue.assign({ restarts: { ...context.restarts, ended: true, pendingDelayMs: undefined } });
      enqueue.sendParent(record({ type: 'restart', id: context.id, processId: INIT, to: 'exited', attempt: context.restarts.attempts, reason: params.reason }));
    }),
    /** The exit the policy acts on, when it was journaled before this supervisor booted. */
    resumePolicy: assign(({ context }) => ({
      initExit: context.processes[INIT]?.exit,
      // Only 'always' gets here with the policy ended: it restarts whatever stopped it (restartDue, onOpen).
      restarts: { ...context.restarts, ended: false },
    })),
    enqueueInternal: assign(({ context }, params: { kind: 'retire' | 'restart' }) => ({ queue: [...context.queue, { kind: params.kind }] })),
    /** A new generation of init is about to start: until it is journaled, init is `created` again. */
    awaitNewGeneration: assign(({ context }) => ({ processes: { ...context.processes, [INIT]: { status: 'created' as const } } })),
    /** A restart that failed leaves init as its last generation ended. */
    keepLastExit: assign(({ context }) => ({ processes: withExit(context.processes, INIT, context.initExit!) })),
    /**
     * The lifecycle moves only on outcomes, which `ops` runs one at a time, and on
     * init's exit: an outcome its state does not take found init gone. Nothing is
     * journaled (no pause after the exit); the caller learns why.
     */
    refuseLateOutcome: enqueueActions(({ context, event, enqueue }) => {
      const { request } = outcomeOf(event);
      if (request.requestId === undefined) return; // a restart overtaken by the policy's end: nobody to tell
      const message = `container ${context.id} exited while ${DOING[request.kind]}`;
      enqueue.sendParent(settle({ requestId: request.requestId, error: { code: 'invalid-state', message } }));
    }),
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
      const exit = explained(context.processes[INIT], context.initExit!);
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
        const from = processId === INIT && context.status === 'restarting' ? 'restarting' : 'created';
        enqueue.sendParent(record({ type, id: context.id, processId, from, to: 'running', pid }));
        enqueue.sendTo(processId, { type: 'STARTED', pid });
      }
      const initStarted = context.startedWhileDown.some((s) => s.processId === INIT);
      enqueue.assign({
        processes,
        startedWhileDown: [],
        ...(initStarted && (context.status === 'created' || context.status === 'restarting')
          ? { status: 'running' as const, restarts: { ...context.restarts, startedAt: new Date(), pendingDelayMs: undefined } }
          : {}),
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
    ...(input.restart ? { restart: input.restart } : {}),
    restarts: input.restore?.restarts ?? NO_RESTARTS,
  }),
  on: {
    REQUEST: { actions: 'enqueue' },
    CLOSE: { actions: assign({ closing: true }) },
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
          always: [
            { guard: 'headRefused', actions: ['refuseHead', 'dequeue'] },
            { guard: 'hasQueued', target: 'busy' },
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
            onDone: [
              { guard: 'headMovesLifecycle', target: 'applying', actions: ['announceOutcome', 'dequeue'] },
              { target: 'idle', actions: ['opSucceeded', 'dequeue'] },
            ],
            onError: { target: 'idle', actions: ['opFailed', 'dequeue'] },
          },
        },
        /**
         * Leaves on the event it raised, in the same microstep as the lifecycle
         * takes it, so the next request is judged against the state it led to.
         */
        applying: {
          on: { CREATED: 'idle', STARTED: 'idle', PAUSED: 'idle', RESUMED: 'idle', DELETED: 'idle', RETIRED: 'idle', RESTARTED: 'idle' },
        },
      },
    },
    lifecycle: {
      initial: 'booting',
      // Outcomes a state does not take below: settled, never lost (see refuseLateOutcome).
      on: {
        CREATED: { actions: 'refuseLateOutcome' },
        STARTED: { actions: 'refuseLateOutcome' },
        PAUSED: { actions: 'refuseLateOutcome' },
        RESUMED: { actions: 'refuseLateOutcome' },
        DELETED: { actions: 'refuseLateOutcome' },
        RETIRED: { actions: 'refuseLateOutcome' },
        RESTARTED: { actions: 'refuseLateOutcome' },
      },
      states: {
        /** A new container goes on to be created; a restored one resumes where the journal left it. */
        booting: {
          entry: 'bootProcesses',
          always: [
            { guard: 'bootsCreating', target: 'creating' },
            { guard: 'bootsCreated', target: 'created' },
            { guard: 'bootsRunning', target: 'running' },
            { guard: 'bootsPaused', target: 'paused' },
            // A restart journaled but not yet begun: the rest of its wait, then the start.
            { guard: 'bootsRestarting', target: 'restarting.waiting', actions: 'resumePolicy' },
            { guard: 'restartDueOnOpen', target: 'restarting', actions: 'resumePolicy' },
            { target: 'exited' },
          ],
        },
        creating: {
          entry: assign({ status: 'creating' }),
          on: { CREATED: { target: 'created', actions: 'recordCreate' } },
        },
        created: {
          entry: assign({ status: 'created' }),
          on: {
            STARTED: initStarted('created'),
            DELETED: {
              target: 'deleted',
              actions: { type: 'recordTransition', params: { type: 'delete', from: 'created', to: 'deleted' } },
            },
          },
        },
        running: {
          entry: assign({ status: 'running' }),
          on: {
            PAUSED: {
              target: 'paused',
              actions: { type: 'recordTransition', params: { type: 'pause', from: 'running', to: 'paused' } },
            },
            EXITED: { guard: 'isInitExit', target: 'stopping', actions: 'noteInitExit' },
          },
        },
        paused: {
          entry: assign({ status: 'paused' }),
          on: {
            RESUMED: {
              target: 'running',
              actions: { type: 'recordTransition', params: { type: 'resume', from: 'paused', to: 'running' } },
            },
            EXITED: { guard: 'isInitExit', target: 'stopping', actions: 'noteInitExit' },
          },
        },
        stopping: {
          entry: [assign({ status: 'stopping' }), 'killExecs'],
          always: [
            { guard: and(['execsSettled', 'restartDue']), target: 'restarting', actions: 'publishInitExit' },
            {
              guard: and(['execsSettled', 'policyEnded']),
              target: 'exited',
              // A user's stop is journaled in the commit of the exit it caused.
              actions: ['publishInitExit', { type: 'recordPolicyEnd', params: { reason: STOPPED_BY_USER } }],
            },
            { guard: 'execsSettled', target: 'exited', actions: 'publishInitExit' },
          ],
        },
        /**
         * init exited and its policy starts it again: the runtime retires the exited
         * generation (so no restore can take it for the next), the `restart` row is
         * journaled, the backoff is waited out, and init starts again. A user's
         * signal ends the policy (to `exited`); a delete, or close, cancels the wait.
         */
        restarting: {
          entry: assign({ status: 'restarting' }),
          initial: 'retiring',
          on: {
            DELETED: {
              target: 'deleted',
              actions: { type: 'recordTransition', params: { type: 'delete', from: 'restarting', to: 'deleted' } },
            },
          },
          states: {
            retiring: {
              entry: { type: 'enqueueInternal', params: { kind: 'retire' } },
              always: { guard: 'policyEnded', target: '#container.lifecycle.exited', actions: { type: 'recordPolicyEnd', params: { reason: STOPPED_BY_USER } } },
              on: {
                RETIRED: { target: 'waiting', actions: 'recordRestart' },
                RESTART_FAILED: { target: '#container.lifecycle.exited', actions: { type: 'recordPolicyEnd', params: ({ event }) => ({ reason: `restart failed: ${event.error.message}` }) } },
              },
            },
            waiting: {
              always: { guard: 'policyEnded', target: '#container.lifecycle.exited', actions: { type: 'recordPolicyEnd', params: { reason: STOPPED_BY_USER } } },
              after: {
                backoff: { guard: 'restartMayBegin', target: 'starting', actions: ['awaitNewGeneration', { type: 'enqueueInternal', params: { kind: 'restart' } }] },
              },
            },
            starting: {
              on: {
                RESTARTED: initStarted('restarting'),
                RESTART_FAILED: {
                  target: '#container.lifecycle.exited',
                  actions: ['keepLastExit', { type: 'recordPolicyEnd', params: ({ event }) => ({ reason: `restart failed: ${event.error.message}` }) }],
                },
              },
            },
          },
        },
        exited: {
          entry: assign({ status: 'exited' }),
          on: {
            DELETED: {
              target: 'deleted',
              actions: { type: 'recordTransition', params: { type: 'delete', from: 'exited', to: 'deleted' } },
            },
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
