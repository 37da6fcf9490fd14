import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino, type Logger } from 'pino';
import { defer, type Observable } from 'rxjs';
import { redactEnv, redactingLogger } from './redact.js';
import { createActor, type Actor } from 'xstate';
import { runOpOver } from './actors/run-op.js';
import { asBerthError, BerthError, fromErrorData } from './errors.js';
import { eventStream } from './io/journal/event-stream.js';
import { Journal } from './io/journal/journal.js';
import { ExitWaiters } from './io/journal/exit-waiters.js';
import { findContainers, journalRecovered } from './io/journal/recover-registry.js';
import { followLog, MAX_LOGS_BYTES, readLog, type LogFile } from './io/os/process-log.js';
import { processTable, type ProcessRow } from './io/os/process-table.js';
import { findBinary } from './io/os/find-binary.js';
import { ProcessRuntime } from './io/process/process-runtime.js';
import { openCgroups } from './io/process/container-cgroups.js';
import { quarantineUnknown } from './io/os/quarantine.js';
import { defaultCgroupParent } from './io/runc/runc-bundle.js';
import { RuncRuntime } from './io/runc/runc-runtime.js';
import { RUNC_TIMEOUT_MS } from './io/runc/runc-cli.js';
import { verifyShim } from './io/process/shim-check.js';
import { DEFAULT_SHIM_PATH } from './io/process/shim-client.js';
import { StateLock, unusableStateDir } from './io/os/state-lock.js';
import { prepareStateDir } from './io/os/state-dir.js';
import type { InspectorRelay, RelayOptions } from './io/inspect/inspector-relay.js';
import { restoreView, type Runtime } from './io/runtime.js';
import type { SupervisorMetrics } from './io/metrics/supervisor-metrics.js';
import { containerMachine, type ContainerContext } from './machines/container.machine.js';
import { NO_RESTARTS, type RestartState } from './machines/restart-policy.js';
import type { StoredRestarts } from './io/journal/projection.js';
import type { ContainerRequest, Settlement } from './machines/requests.js';
import { supervisorMachine, type SupervisorEvent } from './machines/supervisor.machine.js';
import { run, runExec, stop, type Calls } from './until-exit.js';
import {
  EVENT_TYPES,
  type BerthEvent,
  type ContainerInfo,
  type CreateOptions,
  type EventsQuery,
  type ExecOptions,
  type ExitInfo,
  type CheckpointOptions,
  type ContainerSpec,
  type ContainerStats,
  type LinuxResources,
  type LogLimits,
  type ProcessInfo,
  type RunExecOptions,
  type RunOptions,
  type RunResult,
  type StopOptions,
} from './types.js';
import {
  INIT,
  integerIn,
  MAX_TIMER_MS,
  optionalBoolean,
  optionsObject,
  osString,
  osStrings,
  resolveSignal,
  shown,
  validateId,
  validateLabels,
  validateLogLimits,
  validateProcessFields,
  validateProcessId,
  validateRestart,
} from './validate.js';
import { validateBundleProcess } from './validate-bundle.js';
import { validateResources } from './validate-resources.js';

export interface SupervisorOptions {
  /** Where the journal and each container's state live. Created if missing. */
  stateDir: string;
  /**
   * 'process' (the default): plain child processes, no root needed.
   * 'runc': OCI bundles run by runc, each monitored by conmon (root).
   */
  runtime?: 'process' | 'runc';
  /** runc runtime: the runc binary (default `runc` on PATH). */
  runcPath?: string;
  /** runc runtime: the conmon binary (default `conmon` on PATH). */
  conmonPath?: string;
  /**
   * runc runtime: how long one runc call (start, kill, pause, resume, update,
   * stats, delete, ...) may take before runc is killed and the call fails with
   * `runtime-error`. Default 30 s. A checkpoint has its own (CheckpointOptions.timeoutMs).
   */
  runcTimeoutMs?: number;
  /** runc runtime: global runc arguments (default `--root <stateDir>/runc`). */
  runtimeArgs?: string[];
  /**
   * runc runtime: the cgroup under which containers whose config names no
   * `linux.cgroupsPath` are placed, as `<cgroupParent>/<id>` (default
   * `/berth/<hash of the state dir>`, so that supervisors never share a cgroup).
   * Not applied with runc's `--systemd-cgroup`, whose paths have another form.
   */
  cgroupParent?: string;
  /**
   * When the journal is missing or empty but container directories exist (it
   * was lost or replaced), `open` refuses with `journal-missing` unless this is
   * true: then the registry is rebuilt from what the runtime left in each
   * container directory, and journaled. Default false.
   */
  recover?: boolean;
  /** How many journal rows to keep; 0 keeps all. Default 500. */
  retainCount?: number;
  /** How long a process may take to start before the start fails. Default 30 s. */
  startTimeoutMs?: number;
  /** A pino logger; by default warnings and errors go to stderr. */
  logger?: Logger;
  /**
   * Live inspection: a relay (loopback, a free port unless given) that the hosted
   * Stately inspector and berth's offline viewer (`viewerUrl`) read from. Off by
   * default, and free when off.
   */
  inspect?: boolean | RelayOptions;
  /**
   * Hide environment values (names stay) in what leaves the supervisor: its
   * logger's output and inspection messages. Default true; the spec kept on
   * disk (0600) keeps them, for restore.
   */
  redact?: boolean;
  /** The log bounds of containers created without their own `logs` (default: unbounded). */
  logs?: LogLimits;
  /**
   * Prometheus metrics for `metrics()`, in a registry of this supervisor's own.
   * Off by default (prom-client is then never loaded). `{ processMetrics: true }`
   * adds the Node process's own (CPU, memory, fds, event-loop lag), collected
   * once per process whichever supervisors ask.
   */
  metrics?: boolean | { processMetrics?: boolean };
}

/** What an opening supervisor has gathered before it reads its journal. */
interface Opening {
  stateDir: string;
  lock: StateLock;
  logger: Logger;
  runtime: Runtime;
  relay: InspectorRelay | undefined;
  recover: boolean;
  redact: boolean;
  instruments: SupervisorMetrics | undefined;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: BerthError) => void;
  /** Times the call for its metric, if it has one; called when it succeeds. */
  succeeded?: () => void;
}

/** What may still run, or start again (a pending restart): killed by close(), and by a forced delete. */
const ALIVE = new Set(['running', 'paused', 'stopping', 'restarting']);

function toInfo(context: ContainerContext): ContainerInfo {
  const processes: ProcessInfo[] = Object.entries(context.processes).map(([id, proc]) => {
    const info: ProcessInfo = { id, status: proc.status };
    if (proc.pid !== undefined) info.pid = proc.pid;
    if (proc.exit) {
      info.exit = proc.exit;
      info.exitStatus = proc.exit.status;
    }
    return info;
  });
  const info: ContainerInfo = {
    id: context.id,
    status: context.status,
    labels: context.labels,
    createdAt: context.createdAt,
    processes,
  };
  const pid = context.processes[INIT]?.pid;
  if (pid !== undefined) info.pid = pid;
  if (context.restart) info.restartCount = context.restarts.attempts;
  return info;
}

/** The runtime `options.runtime` names, with its binaries checked up front. */
function createRuntime(options: SupervisorOptions, stateDir: string, logger: Logger): Runtime {
  const containersDir = join(stateDir, 'containers');
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  switch (options.runtime ?? 'process') {
    case 'process':
      return new ProcessRuntime(containersDir, startTimeoutMs, logger, openCgroups(defaultCgroupParent(stateDir), logger));
    case 'runc': {
      const runtimeArgs = options.runtimeArgs ?? ['--root', join(stateDir, 'runc')];
      const systemd = runtimeArgs.includes('--systemd-cgroup');
      const { cgroupParent } = options;
      return new RuncRuntime(containersDir, join(stateDir, 'checkpoints'), startTimeoutMs, {
        runc: findBinary(options.runcPath ?? 'runc', 'runc'),
        conmon: findBinary(options.conmonPath ?? 'conmon', 'conmon'),
        runtimeArgs,
        cgroupParent: systemd ? undefined : (cgroupParent ?? defaultCgroupParent(stateDir)),
        runcTimeoutMs: options.runcTimeoutMs ?? RUNC_TIMEOUT_MS,
      }, logger);
    }
  }
}

function journalMissing(stateDir: string, containersDir: string): BerthError {
  return new BerthError(
    'journal-missing',
    `the journal in ${stateDir} has no history, but ${containersDir} holds container directories: it was lost or replaced. ` +
      'Restore journal.db from a backup, or open with { recover: true } to rebuild the registry from those directories',
  );
}

/** Every option of `open`, checked before anything is created on disk. */
function checkOpenOptions(value: unknown): SupervisorOptions {
  const options = optionsObject(value, 'open options', true);
  osString(options.stateDir, 'stateDir');
  if (options.runtime !== undefined && options.runtime !== 'process' && options.runtime !== 'runc') {
    throw new BerthError('invalid-spec', `unknown runtime ${shown(options.runtime)}; available: process, runc`);
  }
  if (options.retainCount !== undefined) integerIn(options.retainCount, 'retainCount', 0, Number.MAX_SAFE_INTEGER);
  if (options.startTimeoutMs !== undefined) integerIn(options.startTimeoutMs, 'startTimeoutMs', 1, MAX_TIMER_MS);
  if (options.runcTimeoutMs !== undefined) integerIn(options.runcTimeoutMs, 'runcTimeoutMs', 1, MAX_TIMER_MS);
  for (const key of ['runcPath', 'conmonPath', 'cgroupParent'] as const) if (options[key] !== undefined) osString(options[key], key);
  const { cgroupParent, runtimeArgs, logger, inspect, metrics } = options;
  if (typeof metrics !== 'boolean') optionalBoolean(optionsObject(metrics, 'metrics').processMetrics, 'metrics.processMetrics');
  if (typeof cgroupParent === 'string' && (!cgroupParent.startsWith('/') || cgroupParent.split('/').includes('..'))) {
    throw new BerthError('invalid-spec', `cgroupParent must be an absolute cgroup path without '..', not ${shown(cgroupParent)}`);
  }
  if (runtimeArgs !== undefined) osStrings(runtimeArgs, 'runtimeArgs');
  optionalBoolean(options.recover, 'recover');
  optionalBoolean(options.redact, 'redact');
  if (options.logs !== undefined) validateLogLimits(options.logs, 'logs');
  if (logger !== undefined && typeof (logger as Partial<Logger> | null)?.child !== 'function') {
    throw new BerthError('invalid-spec', 'logger must be a pino logger');
  }
  if (typeof inspect !== 'boolean') {
    const { host, port, inspectorUrl } = optionsObject(inspect, 'inspect');
    if (host !== undefined) osString(host, 'inspect.host');
    if (port !== undefined) integerIn(port, 'inspect.port', 0, 65_535);
    if (inspectorUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(osString(inspectorUrl, 'inspect.inspectorUrl'))) {
      throw new BerthError('invalid-spec', `inspect.inspectorUrl must be an http(s) address, not ${shown(inspectorUrl)}`);
    }
  }
  return options as unknown as SupervisorOptions;
}

/** Paths are resolved now, so a restore from another working directory still means the same place. */
function containerSpec(options: Record<string, unknown>): ContainerSpec {
  if (options.bundle !== undefined) {
    const bundle = resolve(osString(options.bundle, 'bundle'));
    return options.process === undefined ? { bundle } : { bundle, process: validateBundleProcess(options.process) };
  }
  const checked = validateProcessFields(optionsObject(options.process, 'process', true), 'process');
  return { ...checked, env: checked.env ?? {}, cwd: resolve(checked.cwd ?? process.cwd()) };
}

function checkpointOptions(value: unknown): CheckpointOptions {
  const options = optionsObject(value, 'checkpoint options', true);
  validateId(options.name, 'checkpoint');
  if (options.imagePath !== undefined) osString(options.imagePath, 'imagePath');
  for (const key of ['leaveRunning', 'tcpEstablished', 'unixSockets', 'shellJob'] as const) optionalBoolean(options[key], key);
  if (options.emptyNamespaces !== undefined) osStrings(options.emptyNamespaces, 'emptyNamespaces');
  if (options.timeoutMs !== undefined) integerIn(options.timeoutMs, 'timeoutMs', 1, MAX_TIMER_MS);
  return { ...options } as unknown as CheckpointOptions;
}

/** The projection's restart state as the container machine takes it: a pending restart waits only what is left of its wait. */
function restartState(stored: StoredRestarts | undefined): RestartState {
  if (!stored) return NO_RESTARTS;
  const { dueAt, ...state } = stored;
  return dueAt ? { ...state, pendingDelayMs: Math.max(0, dueAt.getTime() - Date.now()) } : state;
}

function exitOf(event: BerthEvent): ExitInfo {
  const exit: ExitInfo = { status: event.status ?? 255, exitedAt: event.time };
  if (event.signal) exit.signal = event.signal;
  if (event.reason) exit.reason = event.reason;
  return exit;
}

/**
 * berth's programmatic API. Every call goes through the root supervisor actor;
 * each promise settles only after the transition it caused is committed to the
 * journal.
 */
export class Supervisor {
  private nextRequestId = 1;
  private readonly pending = new Map<number, Pending>();
  private closing: Promise<void> | undefined;
  /** Calls of wait() and what is built on it, by the process they wait for. */
  private exitWaiters: ExitWaiters | undefined;
  /** `open`'s `logs`: journaled with each container created without its own, so a later open's default cannot change them. */
  private logDefaults: LogLimits | undefined;

  private constructor(
    private readonly journal: Journal,
    private readonly runtime: Runtime,
    private readonly actor: Actor<typeof supervisorMachine>,
    readonly logger: Logger,
    readonly stateDir: string,
    private readonly lock: StateLock,
    private readonly relay?: InspectorRelay,
    private readonly instruments?: SupervisorMetrics,
  ) {}

  /**
   * With `inspect`: the page for the hosted Stately inspector (needs internet in the browser).
   * It carries the relay's token: whoever has it can read every container's inspection stream.
   */
  get inspectUrl(): string | undefined {
    return this.relay?.pageUrl('/');
  }

  /** With `inspect`: berth's own live viewer, which works with no internet. Carries the token too. */
  get viewerUrl(): string | undefined {
    return this.relay?.pageUrl('/viewer');
  }

  static async open(options: SupervisorOptions): Promise<Supervisor> {
    try {
      return await Supervisor.openChecked(checkOpenOptions(options));
    } catch (err) {
      throw asBerthError(err);
    }
  }

  private static async openChecked(options: SupervisorOptions): Promise<Supervisor> {
    await verifyShim(DEFAULT_SHIM_PATH); // both runtimes launch through it
    const began = performance.now();
    const retainCount = options.retainCount ?? 500;
    const stateDir = resolve(options.stateDir);
    const redact = options.redact !== false;
    const given = options.logger ?? pino({ name: 'berth', level: 'warn' }, pino.destination(2));
    const logger = redact ? redactingLogger(given) : given;
    try {
      prepareStateDir(stateDir, 'journal.db');
    } catch (err) {
      throw err instanceof BerthError ? err : unusableStateDir(err, stateDir);
    }
    const lock = StateLock.acquire(stateDir);
    let runtime: Runtime | undefined;
    let relay: InspectorRelay | undefined;
    try {
      runtime = createRuntime(options, stateDir, logger);
      // The relay (ws) and Stately's converter are loaded only when inspection is on: off, it costs nothing.
      relay = options.inspect ? await (await import('./io/inspect/inspector-relay.js')).InspectorRelay.start(options.inspect === true ? {} : options.inspect) : undefined;
      const { metrics = false } = options;
      // Loaded only when asked for: prom-client takes a while to load.
      const instruments = metrics === false ? undefined : new (await import('./io/metrics/supervisor-metrics.js')).SupervisorMetrics(metrics !== true && metrics.processMetrics === true);
      const opening: Opening = { stateDir, lock, logger, runtime, relay, recover: options.recover === true, redact, instruments };
      const sv = await Supervisor.restore(opening, retainCount, options.runtime ?? 'process');
      sv.logDefaults = options.logs && validateLogLimits(options.logs, 'logs');
      sv.instruments?.restored((performance.now() - began) / 1000);
      return sv;
    } catch (err) {
      await relay?.stop();
      await runtime?.close();
      lock.release();
      throw err;
    }
  }

  /**
   * Builds the supervisor over whatever the state dir holds: every container the
   * journal knows is re-adopted in the state last published, and what happened
   * while no supervisor ran is journaled now, in the guaranteed order.
   */
  private static async restore(opening: Opening, retainCount: number, runtimeName: string): Promise<Supervisor> {
    const { stateDir, logger } = opening;
    const journal = new Journal(join(stateDir, 'journal.db'), retainCount);
    try {
      journal.claimRuntime(runtimeName);
      if (journal.behind) logger.warn(journal.behind, 'the journal ends below a seq already published (put back from a backup?): seq goes on above it, leaving a gap');
      return await Supervisor.adopt(journal, opening);
    } catch (err) {
      journal.abandon();
      throw err;
    }
  }

  private static async adopt(journal: Journal, opening: Opening): Promise<Supervisor> {
    const { stateDir, lock, logger, runtime, relay, recover, redact, instruments } = opening;
    journal.onFailure((err) => logger.error({ err }, 'journal commits fail: rows are kept in memory and retried'));
    // Stately's converter, delivering straight to our relay: no WebSocket client, no retry loop to outlive us.
    // Every inspection message passes redactEnv once converted, the live snapshots of new actors included.
    const inspector = relay && (await import('@statelyai/inspect')).createInspector({ send: (event) => relay.broadcast(event) }, redact ? { serialize: redactEnv } : {});
    if (relay) {
      journal.onCommit((events) => {
        for (const event of events) {
          const row = { type: '@berth.journal', event };
          relay.broadcast(row);
        }
      });
    }
    const containersDir = join(stateDir, 'containers');
    const found = journal.fresh ? findContainers(runtime, containersDir) : [];
    if (found.length > 0) {
      if (!recover) throw journalMissing(stateDir, containersDir);
      await journalRecovered(journal, found);
      logger.warn({ recovered: found.map((c) => c.id) }, 'journal was missing: registry rebuilt from the container directories');
    }
    const stored = journal.registry();
    const known = new Set(stored.map((c) => c.id));
    await runtime.reconcile?.(known);
    const quarantined = quarantineUnknown(containersDir, known);
    const restored = new Map(stored.map((c) => [c.id, runtime.restore(restoreView(c))]));

    let supervisor: Supervisor | undefined;
    if (instruments) {
      instruments.watch({ containers: () => supervisor!.list(), journalRows: () => journal.count() });
      journal.onCommit((events) => instruments.journaled(events));
      journal.onStore((seconds) => instruments.committed(seconds));
    }
    const machine = supervisorMachine.provide({
      actors: { container: containerMachine.provide({ actors: { runOp: runOpOver(runtime, () => new Promise((done) => journal.whenCommitted(done))) } }) },
      actions: {
        record: (_, { entry, detail }) => {
          const event = journal.append(entry, detail);
          logger.debug(detail ? { event, detail } : { event }, 'journaled');
        },
        settle: (_, { settlement }) => journal.whenCommitted(() => supervisor!.settle(settlement)),
      },
    });
    const actor = createActor(machine, { id: 'supervisor', ...(inspector ? { inspect: inspector.inspect } : {}) });
    supervisor = new Supervisor(journal, runtime, actor, logger, stateDir, lock, relay, instruments);
    runtime.onExit((id, processId, exit) => actor.send({ type: 'EXITED', id, processId, exit }));
    runtime.onOom((id) => actor.send({ type: 'OOM', id }));
    actor.subscribe({ error: (err) => logger.error({ err }, 'supervisor actor failed') });
    actor.start();

    for (const { id, movedTo } of quarantined) {
      logger.warn({ id, movedTo }, 'container directory not in the registry: moved aside');
      actor.send({ type: 'QUARANTINED', id, reason: `not in the registry; moved to ${movedTo}` });
    }
    for (const container of stored) {
      const processes = Object.fromEntries(
        container.processes.map((p) => [p.id, { status: p.status, pid: p.pid, exit: p.exit }] as const),
      );
      actor.send({
        type: 'RESTORE',
        id: container.id,
        spec: container.spec,
        labels: container.labels,
        createdAt: container.createdAt,
        ...(container.restart ? { restart: container.restart } : {}),
        restore: {
          status: (['created', 'paused', 'restarting', 'exited'] as const).find((s) => s === container.status) ?? 'running',
          processes,
          startedWhileDown: restored.get(container.id)?.startedWhileDown ?? [],
          restarts: restartState(container.restarts),
        },
      });
      if (container.status !== 'exited') logger.info({ id: container.id, status: container.status }, 'container restored');
    }
    // Exits that happened meanwhile, execs before init; the container machine enforces that order anyway.
    for (const { id, exits } of restored.values()) {
      for (const { processId, exit } of exits) actor.send({ type: 'EXITED', id, processId, exit });
    }
    actor.send({ type: 'RESTORED' });
    await new Promise<void>((done) => journal.whenCommitted(done));
    return supervisor;
  }

  private settle(settlement: Settlement): void {
    const pending = this.pending.get(settlement.requestId);
    if (!pending) return;
    this.pending.delete(settlement.requestId);
    if (settlement.error) pending.reject(fromErrorData(settlement.error));
    else {
      pending.succeeded?.();
      pending.resolve(settlement.value);
    }
  }

  private call<T>(event: (requestId: number) => SupervisorEvent): Promise<T> {
    if (this.closing) return Promise.reject(new BerthError('closed', 'the supervisor is closed'));
    // Nothing new is started that could not be journaled; exits keep being recorded in memory meanwhile.
    if (this.journal.failure) return Promise.reject(this.journal.failure);
    return this.send(event);
  }

  private send<T>(event: (requestId: number) => SupervisorEvent): Promise<T> {
    const requestId = this.nextRequestId++;
    const sent = event(requestId);
    const call = sent.type === 'REQUEST' ? sent.request.kind : sent.type.toLowerCase();
    const succeeded = this.instruments?.startCall(call);
    return new Promise<T>((resolvePromise, reject) => {
      this.pending.set(requestId, { resolve: resolvePromise as (value: unknown) => void, reject, ...(succeeded ? { succeeded } : {}) });
      this.actor.send(sent);
    });
  }

  private request<T>(id: string, request: (requestId: number) => ContainerRequest): Promise<T> {
    return this.call<T>((requestId) => ({ type: 'REQUEST', id, request: request(requestId) }));
  }

  /** Registers a container and prepares its state; journals `create`. */
  async create(options: CreateOptions): Promise<void> {
    const fields = optionsObject(options, 'create options', true);
    const id = validateId(fields.id, 'container');
    const labels = validateLabels(fields.labels);
    const spec = containerSpec(fields);
    const logs = fields.logs === undefined ? this.logDefaults : validateLogLimits(fields.logs, 'logs');
    if (logs) spec.logs = logs;
    const restart = validateRestart(fields.restart);
    if (fields.resources !== undefined) spec.resources = validateResources(fields.resources);
    await this.call<void>((requestId) => ({
      type: 'CREATE',
      requestId,
      id,
      spec,
      labels,
      createdAt: new Date(),
      ...(restart ? { restart } : {}),
    }));
  }

  /** Starts the container's init process; journals `start-container`. */
  async start(id: string): Promise<{ pid: number }> {
    validateId(id, 'container');
    return this.request(id, (requestId) => ({ kind: 'start', requestId }));
  }

  /** Starts another process in a running container; journals `start-process`. */
  async exec(id: string, options: ExecOptions): Promise<{ pid: number }> {
    validateId(id, 'container');
    const fields = optionsObject(options, 'exec options', true);
    if (fields.timeoutMs !== undefined) {
      throw new BerthError('invalid-spec', 'exec resolves once the process has started: use runExec(id, { ..., timeoutMs }) to wait for its exit with a time limit');
    }
    const execId = validateId(fields.execId, 'exec');
    const spec = validateProcessFields(fields, 'exec');
    return this.request(id, (requestId) => ({ kind: 'exec', requestId, execId, spec }));
  }

  /** Sends a signal to a process (and its process tree). */
  async signal(id: string, processId: string, signal: string | number): Promise<void> {
    validateId(id, 'container');
    validateProcessId(processId);
    const resolved = resolveSignal(signal);
    return this.request(id, (requestId) => ({ kind: 'signal', requestId, processId, signal: resolved }));
  }

  /** Freezes every process of the container; journals `pause`. */
  async pause(id: string): Promise<void> {
    validateId(id, 'container');
    return this.request(id, (requestId) => ({ kind: 'pause', requestId }));
  }

  /** Thaws a paused container; journals `resume`. */
  async resume(id: string): Promise<void> {
    validateId(id, 'container');
    return this.request(id, (requestId) => ({ kind: 'resume', requestId }));
  }

  /** Changes a running container's resource limits (its cgroup on the process runtime, `runc update` on runc). */
  async update(id: string, resources: LinuxResources): Promise<void> {
    validateId(id, 'container');
    const checked = validateResources(resources);
    return this.request(id, (requestId) => ({ kind: 'update', requestId, resources: checked }));
  }

  /** CPU, memory and pids usage of a container, from its cgroup. */
  async stats(id: string): Promise<ContainerStats> {
    validateId(id, 'container');
    return this.request(id, (requestId) => ({ kind: 'stats', requestId }));
  }

  /**
   * The container's processes now, as `ps` shows them: its cgroup's, or init, its
   * execs and what they started. Read from /proc, beside the request queue: a
   * process may start or end while it is read.
   */
  async top(id: string): Promise<ProcessRow[]> {
    const { status } = this.get(id);
    if (status !== 'running' && status !== 'paused') throw new BerthError('invalid-state', `container ${id} is ${status}; top needs a running or paused container`);
    return processTable(await this.runtime.pids(id));
  }

  /** What the container was created with (its process or bundle, logs, resources), env values redacted: names say what was set. */
  spec(id: string): ContainerSpec {
    this.get(id);
    return redactEnv(this.actor.getSnapshot().context.containers.get(id)!.getSnapshot().context.spec);
  }

  /** Checkpoints a container with CRIU (runc runtime); it stops unless `leaveRunning`. */
  async checkpoint(id: string, options: CheckpointOptions): Promise<{ imagePath: string }> {
    validateId(id, 'container');
    const checked = checkpointOptions(options);
    return this.request(id, (requestId) => ({ kind: 'checkpoint', requestId, options: checked }));
  }

  /**
   * Removes a created or exited container; journals `delete`. With `force`, a
   * live container is killed first and its exits journaled as usual.
   */
  async delete(id: string, options: { force?: boolean } = {}): Promise<void> {
    validateId(id, 'container');
    const force = optionalBoolean(optionsObject(options, 'delete options').force, 'force');
    if (force && ALIVE.has(this.get(id).status)) {
      await this.signal(id, INIT, 'SIGKILL').catch((err: unknown) => {
        if (!(err instanceof BerthError && err.code === 'invalid-state')) throw err;
      });
      await this.wait(id, INIT);
    }
    return this.request(id, (requestId) => ({ kind: 'delete', requestId }));
  }

  /**
   * Sends `signal` (default SIGTERM) to init and resolves with its exit; if init
   * has not exited after `timeoutMs` (default 10 s), the whole container is killed
   * with SIGKILL. A container that has already exited answers with its exit.
   */
  async stop(id: string, options: StopOptions = {}): Promise<ExitInfo> {
    validateId(id, 'container');
    const fields = optionsObject(options, 'stop options');
    const signal = fields.signal === undefined ? 'SIGTERM' : resolveSignal(fields.signal).name;
    const timeoutMs = fields.timeoutMs === undefined ? 10_000 : integerIn(fields.timeoutMs, 'timeoutMs', 0, MAX_TIMER_MS);
    return stop(this.calls(), id, signal, timeoutMs);
  }

  /**
   * create, start, wait for the exit and, with `remove`, delete, in one call.
   * Past `timeoutMs` (counted from the start) the container is killed and its
   * exit, journaled once, says `reason: 'timeout'`. A container whose start fails
   * is deleted, so a failed run leaves nothing.
   */
  async run(options: RunOptions): Promise<RunResult> {
    const { timeoutMs, remove, ...create } = optionsObject(options, 'run options', true);
    if (timeoutMs !== undefined) integerIn(timeoutMs, 'timeoutMs', 1, MAX_TIMER_MS);
    optionalBoolean(remove, 'remove');
    return run(this.calls(), create as unknown as CreateOptions, timeoutMs as number | undefined, remove === true);
  }

  /**
   * exec, then wait for the exec's exit (containerd's exec-sync). Past `timeoutMs`
   * the exec is killed and its exit says `reason: 'timeout'`.
   */
  async runExec(id: string, options: RunExecOptions): Promise<RunResult> {
    const { timeoutMs, ...exec } = optionsObject(options, 'runExec options', true);
    if (timeoutMs !== undefined) integerIn(timeoutMs, 'timeoutMs', 1, MAX_TIMER_MS);
    return runExec(this.calls(), id, exec as unknown as ExecOptions, timeoutMs as number | undefined);
  }

  /** What stop, run and runExec are built from: the public calls, and a kill that gives its exit a reason. */
  private calls(): Calls {
    return {
      create: (options) => this.create(options),
      start: (id) => this.start(id),
      exec: (id, options) => this.exec(id, options),
      signal: (id, processId, signal) => this.signal(id, processId, signal),
      wait: (id, processId) => this.wait(id, processId),
      delete: (id) => this.delete(id),
      get: (id) => this.get(id),
      kill: (id, processId, reason) =>
        this.request(id, (requestId) => ({ kind: 'signal', requestId, processId, signal: resolveSignal('SIGKILL'), reason })),
      cleanupFailed: (err, id) => this.logger.warn({ err, id }, 'a container whose run failed could not be deleted'),
    };
  }

  /** Resolves with the process's exit once it is journaled (at once if it already is). */
  wait(id: string, processId: string = INIT): Promise<ExitInfo> {
    let known: ExitInfo | undefined;
    try {
      known = this.processInfo(id, processId).exit;
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<ExitInfo>((resolvePromise, reject) => {
      if (known) {
        this.journal.whenCommitted(() => resolvePromise(known));
        return;
      }
      this.exitWaiters ??= new ExitWaiters(this.journal);
      const unhook = this.exitWaiters.add(id, processId, (row) => {
        unhook();
        unhookClose();
        // A restart that failed to start init ends with init's last exit, and no new one.
        resolvePromise(row.type === 'exit' ? exitOf(row) : this.processInfo(id, INIT).exit!);
      });
      const unhookClose = this.journal.onClose(() => {
        unhook();
        reject(new BerthError('closed', `the supervisor closed before ${processId} of ${id} exited`));
      });
    });
  }

  /**
   * Captured stdout and stderr of a process, so far: all of it when its log is at
   * most 16 MiB, `too-large` otherwise (stream it with `output()`). With
   * `tailBytes`, the end of it: the text of the log's last `tailBytes` bytes.
   */
  async logs(id: string, processId: string = INIT, options: { tailBytes?: number } = {}): Promise<string> {
    const { tailBytes } = optionsObject(options, 'logs options');
    if (tailBytes !== undefined) integerIn(tailBytes, 'tailBytes', 1, MAX_LOGS_BYTES);
    return readLog(this.logFile(id, processId), tailBytes as number | undefined);
  }

  /**
   * A process's stdout and stderr as it writes them, in chunks: what `logs()`
   * returns, live. Completes once the process has exited (or the supervisor
   * closes) and its output has been read to the end.
   */
  output(id: string, processId: string = INIT): Observable<string> {
    validateId(id, 'container');
    validateProcessId(processId);
    return defer(() => {
      const { path, format } = this.logFile(id, processId);
      return followLog(path, format, this.wait(id, processId));
    });
  }

  private logFile(id: string, processId: string): LogFile {
    this.processInfo(id, processId);
    return this.runtime.logFile(id, processId);
  }

  /** A process's registry entry; not-found if the container or the process is unknown. */
  private processInfo(id: string, processId: string): ProcessInfo {
    validateProcessId(processId);
    const proc = this.get(id).processes.find((p) => p.id === processId);
    if (!proc) throw new BerthError('not-found', `process ${processId} not found in container ${id}`);
    return proc;
  }

  /** Every container in the registry. */
  list(): ContainerInfo[] {
    return [...this.actor.getSnapshot().context.containers.values()].map((ref) => toInfo(ref.getSnapshot().context));
  }

  /** One container; throws `not-found` for an unknown id. */
  get(id: string): ContainerInfo {
    validateId(id, 'container');
    const ref = this.actor.getSnapshot().context.containers.get(id);
    if (!ref) throw new BerthError('not-found', `container ${id} not found`);
    return toInfo(ref.getSnapshot().context);
  }

  /**
   * Journal rows as an Observable. With `after` (a seq) or `since` (a Date) the
   * stored rows matching `query` are replayed first; then rows arrive live, unless
   * `storedOnly`. Without either cursor the stream is live only.
   */
  events(query: EventsQuery = {}): Observable<BerthEvent> {
    optionsObject(query, 'events query');
    if (query.types !== undefined && !Array.isArray(query.types)) throw new BerthError('invalid-spec', 'types must be an array of event types');
    optionalBoolean(query.storedOnly, 'storedOnly');
    if (query.id !== undefined) validateId(query.id, 'container');
    for (const type of query.types ?? []) {
      if (!EVENT_TYPES.includes(type)) throw new BerthError('invalid-spec', `unknown event type ${shown(type)}`);
    }
    if (query.after !== undefined) integerIn(query.after, 'after', 0, Number.MAX_SAFE_INTEGER);
    if (query.since !== undefined && !(query.since instanceof Date && !Number.isNaN(query.since.getTime()))) {
      throw new BerthError('invalid-spec', 'since must be a valid Date');
    }
    if (query.storedOnly && query.after === undefined && query.since === undefined) {
      throw new BerthError('invalid-spec', 'storedOnly needs a cursor: pass after (a seq) or since (a Date)');
    }
    const stream = eventStream(this.journal, query);
    return this.instruments ? this.instruments.counted(stream) : stream;
  }

  /**
   * The Prometheus text exposition of this supervisor's metrics (see the README's
   * Metrics section): call latencies, containers by status, exits by class,
   * journal commits. `unsupported` unless the supervisor was opened with `metrics`.
   */
  async metrics(): Promise<string> {
    if (this.closing) throw new BerthError('closed', 'the supervisor is closed');
    if (!this.instruments) throw new BerthError('unsupported', 'metrics are off: open the supervisor with metrics: true');
    return this.instruments.text();
  }

  /** Seq of the newest committed journal row. */
  get lastSeq(): number {
    return this.journal.headSeq;
  }

  /**
   * Closes the supervisor. By default it kills what still runs and waits until
   * every exit is journaled. With `leaveRunning`, processes live on under their
   * shims, and the next `open` of the same state dir re-adopts them and journals
   * whatever happened in between. Live event streams complete either way. Safe
   * to call more than once.
   */
  async close(options: { leaveRunning?: boolean } = {}): Promise<void> {
    const leaveRunning = optionalBoolean(optionsObject(options, 'close options').leaveRunning, 'leaveRunning');
    this.closing ??= this.shutdown(leaveRunning === true);
    return this.closing;
  }

  private async shutdown(leaveRunning: boolean): Promise<void> {
    this.actor.send({ type: 'CLOSE' });
    const alive = leaveRunning ? [] : this.list().filter((c) => ALIVE.has(c.status));
    await Promise.all(
      alive.map(async (container) => {
        await this.send<void>((requestId) => ({
          type: 'REQUEST',
          id: container.id,
          request: { kind: 'signal', requestId, processId: INIT, signal: resolveSignal('SIGKILL') },
        })).catch(() => undefined);
        await this.wait(container.id, INIT);
      }),
    );
    await new Promise<void>((done) => this.journal.whenCommitted(done));
    this.actor.send({ type: 'STOP' });
    this.actor.stop();
    await this.runtime.close();
    for (const pending of this.pending.values()) pending.reject(new BerthError('closed', 'the supervisor is closed'));
    this.pending.clear();
    this.journal.close();
    await this.relay?.stop();
    this.lock.release();
    // Let every live stream deliver what it still holds, and complete, before close() resolves.
    await new Promise<void>((done) => setImmediate(done));
  }
}
