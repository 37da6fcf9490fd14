import {
  existsSync,
  mkdirSync,
  rmSync,
  statSync,
  writeFileSync,
  watch,
  type FSWatcher,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { join, resolve } from 'node:path';
import { BerthError } from '../../errors.js';
import type { ContainerSpec, ContainerStats, ExitInfo, LinuxResources, ProcessSpec } from '../../types.js';
import { INIT, isPlainObject, validateLogLimits, validateProcessFields, type ResolvedSignal } from '../../validate.js';
import { writeLogLimits } from './log-limits.js';
import { exitFrom, lostExit } from '../os/exit-status.js';
import { initExitJournaled, initLast, processesToRestore, type ExitListener, type RestoredContainer, type Runtime, type StartedProcess } from '../runtime.js';
import { lookPath } from '../os/find-binary.js';
import { processEnv } from './process-env.js';
import { ShimClient } from './shim-client.js';
import { checkUserAllowed, inheritIdentity } from './process-user.js';
import { guarded } from '../os/guarded.js';
import { moveAside } from '../os/quarantine.js';
import { readRecord, RECORD_SUFFIX, reserveRecord, type StartRecord } from './shim-records.js';
import { confirmedState, killConfirmed, killConfirmedGroup, readIfPresent } from '../os/os-process.js';
import { Sweep } from '../os/sweep.js';
import { judgeProcess, type Fate } from './process-restore.js';
import type { StoredContainer } from '../journal/projection.js';
import type { LogFile } from '../os/process-log.js';
import type { Logger } from 'pino';
import { removeCgroup, type ContainerCgroup } from '../os/cgroup.js';
import { withDescendants } from '../os/process-table.js';
import { checkResources, hadCgroup, makeContainerCgroup, recordedCgroup, type Cgroups } from './container-cgroups.js';

interface LiveProcess {
  /** Leader of the process's own group (0 until it has started), and its start time: signals go only to that very process. */
  pid: number;
  startTime: number;
  /** The berth-shim monitor that reaps it and records its exit (0 until started), and its start time. */
  monitorPid: number;
  monitorStartTime: number;
  /** Its exit has been reported (or is being reported by restore): reported once, never again. */
  exited: boolean;
  startedAt?: Date;
  /** How often the watchdog found its monitor stopped (by the job: it is the monitor's child) and continued it. */
  monitorStops?: number;
}

interface ContainerState {
  id: string;
  dir: string;
  spec: ProcessSpec;
  processes: Map<string, LiveProcess>;
  initExited: boolean;
  /** Set for processes adopted after a restart: their monitors report through their records only. */
  watcher?: FSWatcher;
  /** Its cgroup, when the supervisor can make them: limits, stats, the freezer, and killing all of it. */
  cgroup?: ContainerCgroup;
  /** The limits it was created with, and updated to: a restart's new cgroup gets them. */
  resources?: LinuxResources;
  /** The removal of the cgroup of an init that exited, which a restart waits for. */
  cgroupRemoval?: Promise<void>;
  /** OOM kills in its cgroup already reported. */
  oomKills: number;
  /** Frozen by pause (the cgroup's freezer). */
  frozen?: boolean;
}

// Metadata operations on the local state dir take microseconds; done synchronously they
// cost less than a thread-pool round trip each, which is what bounds lifecycles per second.

/** Limits after an update: each controller's fields replaced one by one, as `runc update` does. */
function mergeResources(old: LinuxResources | undefined, update: LinuxResources): LinuxResources {
  const merged: LinuxResources = { ...old };
  for (const [key, value] of Object.entries(update)) {
    const before = old?.[key];
    merged[key] = isPlainObject(value) && isPlainObject(before) ? { ...before, ...value } : value;
  }
  return merged;
}

/** Resolves a command the way execvp would, to fail at create rather than at start. */
function resolveExecutable(command: string, cwd: string, env: Record<string, string | undefined>): string {
  const found = lookPath(command, cwd, env.PATH);
  if (found) return found;
  throw new BerthError('invalid-spec', `exec: ${JSON.stringify(command)}: executable file not found in $PATH`);
}

function checkCwd(cwd: string): void {
  const info = statSync(cwd, { throwIfNoEntry: false });
  if (!info?.isDirectory()) throw new BerthError('invalid-spec', `cwd ${JSON.stringify(cwd)} is not a directory`);
}


/** A process's scheduler state letter ('R', 'S', 'T', 'D', 'Z', ...) and whether SIGSTOP is pending on it. */
async function schedulerState(pid: number): Promise<{ state: string; stopPending: boolean } | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  if (status === undefined) return undefined;
  const field = (name: string) => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(status)?.[1] ?? '';
  const stopBit = 1n << BigInt(osConstants.signals.SIGSTOP - 1);
  const pending = (BigInt(`0x${field('SigPnd') || '0'}`) | BigInt(`0x${field('ShdPnd') || '0'}`)) & stopBit;
  return { state: field('State'), stopPending: pending !== 0n };
}

/**
 * Waits (briefly: signals land within microseconds) until a live process is
 * stopped, or running again. A process in uninterruptible sleep with SIGSTOP
 * pending counts as stopped: it cannot run again before the stop takes effect
 * (dash, for one, sits in 'D' while its vforked child is stopped).
 */
async function untilStopped(proc: LiveProcess, stopped: boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const now = await schedulerState(proc.pid);
    if (now === undefined || now.state === 'Z' || proc.exited) return;
    const isStopped = now.state === 'T' || now.state === 't' || (now.state === 'D' && now.stopPending);
    if (isStopped === stopped) return;
    if (Date.now() > deadline) {
      throw new BerthError('runtime-error', `process ${proc.pid} did not ${stopped ? 'stop' : 'continue'} within 5 s (state ${now.state})`);
    }
    await new Promise((done) => setTimeout(done, 1));
  }
}

const NOT_STARTED = { pid: 0, startTime: 0, monitorPid: 0, monitorStartTime: 0 };

/**
 * Asks a process's monitor, confirmed by pid and start time, to end everything
 * it reaps, setsid'd descendants included: it alone can reap them, so it cannot
 * mistake a reused pid for one of them. SIGCONT, should the job have stopped it.
 * A monitor that is gone can no longer be asked: a monitor that ended by itself
 * left nothing of its tree; one that was killed left its orphans to its zygote
 * (which kills them) or, with no zygote running, to the system's reaper.
 */
function endTree(proc: Pick<LiveProcess, 'monitorPid' | 'monitorStartTime'>): void {
  if (killConfirmed(proc.monitorPid, proc.monitorStartTime, 'SIGTERM')) killConfirmed(proc.monitorPid, proc.monitorStartTime, 'SIGCONT');
}

/** A process whose container dir was lost: one never journaled as started never started; a started one's end is unknown. */
function lostFate(status: 'created' | 'running' | 'paused'): Fate {
  return status === 'created' ? { kind: 'never-started' } : { kind: 'exited', started: { ...NOT_STARTED, startedNs: 0n }, exit: lostExit('state-lost') };
}

function processSpecOf(spec: ContainerSpec): ProcessSpec {
  if (!('args' in spec)) {
    throw new BerthError('invalid-spec', 'the process runtime runs a process ({ process: { args } }); bundles need the runc runtime');
  }
  return spec;
}

/** How often monitors are checked for having died without a word, or been stopped. */
const MONITOR_CHECK_MS = 1_000;
/**
 * At most this many checks (a /proc or cgroup read each) per MONITOR_CHECK_MS:
 * beyond 1,000 monitors and containers a round of checks takes longer than a
 * second, and watching stays near 3% of a core.
 */
const MONITOR_CHECKS_PER_TICK = 1_000;
/** A monitor found stopped this often is a job's hostage: it is killed with its tree, as lost. */
const MONITOR_STOPS_TOLERATED = 3;

/**
 * The embedded runtime: a container is an init process and its execs, each the
 * leader of its own process group, with stdout and stderr captured to a log file
 * in the container's state dir. When init exits, everything of the container is
 * killed, setsid'd descendants included, as the kernel does when a PID
 * namespace's init dies.
 */
export class ProcessRuntime implements Runtime {
  readonly name = 'process';
  private readonly containers = new Map<string, ContainerState>();
  private listener: ExitListener = () => {};
  private oomListener: (containerId: string) => void = () => {};

  private readonly shim: ShimClient;
  private readonly watchdog: NodeJS.Timeout;
  private readonly sweep = new Sweep(() => this.watched(), (check) => check(), MONITOR_CHECKS_PER_TICK);

  constructor(
    private readonly containersDir: string,
    private readonly startTimeoutMs: number,
    private readonly logger: Logger,
    private readonly cgroups: Cgroups,
  ) {
    this.shim = new ShimClient();
    // Left referenced on purpose: like a server, an open supervisor keeps Node running until close().
    this.watchdog = setInterval(() => this.sweep.tick(), MONITOR_CHECK_MS);
  }

  onExit(listener: ExitListener): void {
    this.listener = listener;
  }

  onOom(listener: (containerId: string) => void): void {
    this.oomListener = listener;
  }

  /** OOM kills in the container's cgroup not yet reported: one event for each check that finds more (as often as runc's conmon would). */
  private noteOom(state: ContainerState): void {
    guarded(this.logger, `process runtime: reading the OOM kills of ${state.id}`, () => {
      const kills = state.cgroup?.oomKills() ?? 0;
      if (kills <= state.oomKills) return;
      state.oomKills = kills;
      this.oomListener(state.id);
    });
  }

  private state(id: string): ContainerState {
    const state = this.containers.get(id);
    if (!state) throw new BerthError('not-found', `container ${id} not found in the process runtime`);
    return state;
  }

  async create(id: string, containerSpec: ContainerSpec): Promise<void> {
    const spec = processSpecOf(containerSpec);
    checkUserAllowed(spec, 'process');
    checkResources(this.cgroups, containerSpec.resources);
    const cwd = resolve(spec.cwd ?? process.cwd());
    checkCwd(cwd);
    const normalized: ProcessSpec = { ...spec, env: spec.env ?? {}, cwd };
    resolveExecutable(spec.args[0]!, cwd, processEnv(normalized));
    const dir = join(this.containersDir, id);
    moveAside(this.containersDir, dir); // a leftover is kept as evidence, never reused
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    let cgroup: ContainerCgroup | undefined;
    try {
      writeFileSync(join(dir, 'spec.json'), JSON.stringify({ ...normalized, logs: containerSpec.logs }), { mode: 0o600 });
      if (containerSpec.logs) writeLogLimits(dir, containerSpec.logs);
      if ('tree' in this.cgroups) cgroup = await makeContainerCgroup(this.cgroups.tree, id, dir, containerSpec.resources);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    this.containers.set(id, { id, dir, spec: normalized, processes: new Map(), initExited: false, cgroup, resources: containerSpec.resources, oomKills: 0 });
  }

  recoverSpec(dir: string): ContainerSpec | undefined {
    try {
      const spec: unknown = JSON.parse(readIfPresent(join(dir, 'spec.json')) ?? 'null');
      if (spec === null || typeof spec !== 'object') return undefined;
      // Read back from disk, so checked as the API checks it.
      const { logs } = spec as { logs?: unknown };
      return { ...validateProcessFields(spec as Record<string, unknown>, 'spec.json'), ...(logs === undefined ? {} : { logs: validateLogLimits(logs, 'spec.json logs') }) };
    } catch {
      return undefined; // not readable as a spec: left to quarantine
    }
  }

  restore(stored: StoredContainer): RestoredContainer {
    const dir = join(this.containersDir, stored.id);
    // Limits an update set before a crash are not journaled: a restart after it gets the created ones.
    const state: ContainerState = { id: stored.id, dir, spec: processSpecOf(stored.spec), processes: new Map(), initExited: false, resources: stored.spec.resources, oomKills: 0 };
    const restored: RestoredContainer = { id: stored.id, startedWhileDown: [], exits: [] };
    this.containers.set(stored.id, state);
    const lost = !existsSync(dir);
    if ('tree' in this.cgroups) state.cgroup = recordedCgroup(this.cgroups.tree, stored.id, dir);
    state.oomKills = state.cgroup?.oomKills() ?? 0;
    state.frozen = stored.status === 'paused' && state.cgroup !== undefined;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Watch before judging, so an exit between the two is not missed.
    state.watcher = watch(dir, (_, file) => this.recordChanged(state, file));
    state.watcher.unref();
    const startedTooLate = this.startedTooLate(stored, dir);

    for (const proc of processesToRestore(stored, dir, RECORD_SUFFIX)) {
      if (proc.status === 'exited') {
        // Its monitor may still reap descendants it left: init's exit and delete end them through it.
        const monitor = readRecord(dir, proc.id).started;
        state.processes.set(proc.id, { ...NOT_STARTED, monitorPid: monitor?.monitorPid ?? 0, monitorStartTime: monitor?.monitorStartTime ?? 0, exited: true });
        if (proc.id === INIT) state.initExited = true;
        continue;
      }
      const fate: Fate = lost ? lostFate(proc.status) : judgeProcess(dir, proc.id, (started) => killConfirmedGroup(started.pid, started.startTime, 'SIGKILL'));
      if (fate.kind === 'never-started') {
        // Published as running but nothing on disk says it ever ran: its end cannot be known.
        if (proc.status === 'running') restored.exits.push({ processId: proc.id, exit: lostExit('shim-lost') });
        continue;
      }
      if (proc.status === 'created' && startedTooLate(proc.id, fate.started)) {
        // Its start cannot be published before init's exit, nor after it: it never counts as started.
        endTree(fate.started);
        continue;
      }
      if (proc.status === 'created') restored.startedWhileDown.push({ processId: proc.id, pid: fate.started.pid });
      const { pid, startTime, monitorPid, monitorStartTime } = fate.started;
      const live: LiveProcess = { pid, startTime, monitorPid, monitorStartTime, exited: fate.kind === 'exited' };
      state.processes.set(proc.id, live);
      if (fate.kind === 'exited') restored.exits.push({ processId: proc.id, exit: fate.exit });
    }
    // Init is gone: nothing of the container may be left, even what escaped its monitors (a cgroup holds it).
    if (state.initExited || restored.exits.some((e) => e.processId === INIT)) this.reapContainer(state);
    initLast(restored.exits);
    return restored;
  }

  /**
   * Whether an exec whose start was never journaled started too late to be
   * journaled at all: after its init's exit was journaled, or after its init
   * was reaped (as the boot clocks in their records tell). A request left in
   * the pipe of a dead supervisor is the usual one.
   */
  private startedTooLate(stored: StoredContainer, dir: string): (processId: string, started: StartRecord) => boolean {
    const initJournaled = initExitJournaled(stored);
    const initExitedNs = readRecord(dir, INIT).exited?.exitedNs;
    return (processId, started) =>
      processId !== INIT && (initJournaled || (initExitedNs !== undefined && started.startedNs > initExitedNs));
  }

  /** An adopted process's monitor reports through its record only. */
  private recordChanged(state: ContainerState, file: string | null): void {
    if (!file?.endsWith(RECORD_SUFFIX)) return;
    const processId = file.slice(0, -RECORD_SUFFIX.length);
    guarded(this.logger, `process runtime: reading the record of ${processId} of ${state.id}`, () => {
      const recorded = readRecord(state.dir, processId).exited;
      if (recorded) this.deliver(state, processId, recorded.exit);
    });
  }


  async start(id: string): Promise<StartedProcess> {
    const state = this.state(id);
    return this.spawn(id, state, INIT, state.spec);
  }

  /** The exited init's record goes: a record of init found from now on is of the next generation. */
  async retireInit(id: string): Promise<void> {
    const state = this.state(id);
    state.processes.delete(INIT);
    rmSync(join(state.dir, `${INIT}${RECORD_SUFFIX}`), { force: true });
  }

  /** A new generation of init: a new record, its output appended to the same log; exec records stay. */
  async restart(id: string): Promise<StartedProcess> {
    const state = this.state(id);
    state.initExited = false;
    try {
      // The exited generation's cgroup was emptied and removed with it: the new one starts in a fresh one, with the same limits.
      if ('tree' in this.cgroups && (state.cgroup || hadCgroup(state.dir))) {
        await state.cgroupRemoval;
        state.cgroup = await makeContainerCgroup(this.cgroups.tree, id, state.dir, state.resources);
        state.oomKills = 0;
      }
      return await this.spawn(id, state, INIT, state.spec);
    } catch (err) {
      state.initExited = true; // still the exited generation: no exec may start
      throw err;
    }
  }

  async exec(id: string, execId: string, spec: ProcessSpec): Promise<StartedProcess> {
    const state = this.state(id);
    // Checked synchronously before the spawn: no exec can start after init was reaped.
    if (state.initExited) throw new BerthError('invalid-state', `container ${id} has exited; cannot exec ${execId}`);
    checkUserAllowed(spec, 'exec');
    // The same container: an exec inherits the supervisor's environment when its init does, unless it says otherwise.
    const merged: ProcessSpec = {
      args: spec.args,
      env: { ...state.spec.env, ...spec.env },
      cwd: resolve(spec.cwd ?? state.spec.cwd ?? process.cwd()),
      ...inheritIdentity(spec, state.spec),
      inheritEnv: spec.inheritEnv ?? state.spec.inheritEnv === true,
    };
    checkCwd(merged.cwd!);
    resolveExecutable(merged.args[0]!, merged.cwd!, processEnv(merged));
    return this.spawn(id, state, execId, merged);
  }

  private async spawn(id: string, state: ContainerState, processId: string, spec: ProcessSpec): Promise<StartedProcess> {
    // Registered before the spawn: the exit report may arrive on the heels of the start report.
    const live: LiveProcess = { ...NOT_STARTED, exited: false };
    state.processes.set(processId, live);
    try {
      const generation = reserveRecord(state.dir, processId);
      const request = { dir: state.dir, processId, generation, init: processId === INIT, args: spec.args, env: processEnv(spec), cwd: spec.cwd! };
      const started = await this.shim.spawn(
        { ...request, user: spec.user, rlimits: spec.rlimits },
        (exit) => this.deliver(state, processId, exitFrom(exit.code, exit.signal, exit.exitedAt)),
        this.startTimeoutMs,
      );
      Object.assign(live, { pid: started.pid, startTime: started.startTime, monitorPid: started.monitorPid, monitorStartTime: started.monitorStartTime });
      live.startedAt = started.startedAt;
    } catch (err) {
      state.processes.delete(processId);
      // The attempt is given up: a monitor yet to open its record refuses to start, one that did start is
      // ended by the shim client, and no restore finds it.
      rmSync(join(state.dir, `${processId}${RECORD_SUFFIX}`), { force: true });
      // An exec whose container exited meanwhile (its cgroup removed, so it could not join it) is refused as any late exec is.
      if (processId !== INIT && state.initExited) throw new BerthError('invalid-state', `container ${id} has exited; cannot exec ${processId}`);
      const code = (err as NodeJS.ErrnoException).code === 'ENOSPC' ? 'disk-full' : 'runtime-error';
      throw new BerthError(code, `cannot start ${processId} of ${id}: ${(err as Error).message}`, { cause: err });
    }
    if (processId !== INIT && state.initExited) {
      // Init ended while this exec was starting: no exec may run after init was reaped.
      endTree(live);
      state.processes.delete(processId);
      throw new BerthError('invalid-state', `container ${id} has exited; cannot exec ${processId}`);
    }
    return { pid: live.pid, startedAt: live.startedAt };
  }

  /** Reports an exit exactly once, however many ways it was learned (shim report, record, watchdog). */
  private deliver(state: ContainerState, processId: string, exit: ExitInfo): void {
    const live = state.processes.get(processId);
    if (!live || live.exited) return;
    live.exited = true;
    this.noteOom(state); // an OOM kill is journaled before the exit it caused
    if (processId === INIT) this.reapContainer(state);
    this.listener(state.id, processId, exit);
  }

  /**
   * Init is gone: nothing else of the container may live on (no orphan, no
   * zombie). Every exec's monitor ends its tree, also of execs whose exit was
   * delivered but that left descendants behind.
   */
  private reapContainer(state: ContainerState): void {
    state.initExited = true;
    for (const proc of state.processes.values()) endTree(proc);
    // init's monitor emptied the cgroup before recording the exit (one that was killed could not); then it has no more use.
    if (state.cgroup) state.cgroupRemoval = this.whenDone(state, 'emptying and removing its cgroup', removeCgroup(state.cgroup));
  }

  /** Work left to run on its own: what it cannot do is logged, never thrown where nothing could catch it. */
  private whenDone(state: ContainerState, what: string, work: Promise<void>): Promise<void> {
    return work.catch((err: unknown) => this.logger.error({ err, container: state.id }, `process runtime: ${what} failed`));
  }

  /** The watchdog's checks, one per container (OOM kills) and per live monitor, of containers still registered when reached. */
  private *watched(): Generator<() => void> {
    for (const state of this.containers.values()) {
      // A descendant the OOM killer took, while no process of the container exits: still reported.
      if (state.cgroup && !state.initExited) yield () => this.noteOom(state);
      for (const [processId, live] of state.processes) {
        if (this.containers.get(state.id) !== state) break;
        if (live.exited || live.monitorPid <= 0) continue;
        yield () => guarded(this.logger, `process runtime: checking the monitor of ${processId} of ${state.id}`, () => this.checkMonitor(state, processId, live));
      }
    }
  }

  /**
   * A monitor that died without recording an exit leaves nobody to report it: the
   * exit is 'shim-lost' (255), and whatever is left of the process is killed. A
   * stopped one (its job, its child, may stop it) is continued, so an exit is
   * never held up; one that keeps being stopped is killed with its tree, as lost.
   */
  private checkMonitor(state: ContainerState, processId: string, live: LiveProcess): void {
    if (live.exited) return; // reported since the sweep began
    const monitorState = confirmedState(live.monitorPid, live.monitorStartTime);
    if (monitorState !== undefined) {
      if (monitorState !== 'T') return;
      live.monitorStops = (live.monitorStops ?? 0) + 1;
      if (live.monitorStops <= MONITOR_STOPS_TOLERATED) {
        killConfirmed(live.monitorPid, live.monitorStartTime, 'SIGCONT');
        return;
      }
      this.logger.warn({ container: state.id, process: processId }, 'process runtime: a monitor kept being stopped by its job; killed with its tree');
      // Its orphans come to the zygote, which kills them (see berth-shim.c).
      killConfirmed(live.monitorPid, live.monitorStartTime, 'SIGKILL');
    }
    const recorded = readRecord(state.dir, processId).exited?.exit;
    if (!recorded) killConfirmedGroup(live.pid, live.startTime, 'SIGKILL');
    this.deliver(state, processId, recorded ?? lostExit('shim-lost'));
  }

  async signal(id: string, processId: string, signal: ResolvedSignal): Promise<void> {
    const proc = this.state(id).processes.get(processId);
    if (!proc || proc.exited || !killConfirmedGroup(proc.pid, proc.startTime, signal.number)) {
      throw new BerthError('invalid-state', `process ${processId} of ${id} is not running`);
    }
    // A frozen process takes its SIGKILL only once thawed (cgroup v1), as runc thaws a paused container it kills.
    const state = this.state(id);
    if (signal.name === 'SIGKILL' && state.frozen && state.cgroup) {
      await state.cgroup.setFrozen(false);
      state.frozen = false;
    }
  }

  /** Settles once every live process is really stopped, as `runc pause` waits for FROZEN: by the cgroup's freezer, or by SIGSTOP without one. */
  async pause(id: string): Promise<void> {
    const state = this.state(id);
    if (state.cgroup) {
      try {
        await this.setFrozen(state, true);
      } catch (err) {
        if (!state.initExited) await state.cgroup.setFrozen(false); // not paused: nothing may stay frozen while the registry says running
        throw err;
      }
      return;
    }
    const live = [...state.processes.values()].filter((proc) => !proc.exited);
    try {
      for (const proc of live) killConfirmedGroup(proc.pid, proc.startTime, 'SIGSTOP');
      await Promise.all(live.map((proc) => untilStopped(proc, true)));
    } catch (err) {
      // Not paused: nothing may stay stopped while the registry says running.
      for (const proc of live) killConfirmedGroup(proc.pid, proc.startTime, 'SIGCONT');
      throw err;
    }
  }

  async resume(id: string): Promise<void> {
    const state = this.state(id);
    if (state.cgroup) {
      await this.setFrozen(state, false);
      return;
    }
    const live = [...state.processes.values()].filter((proc) => !proc.exited);
    for (const proc of live) killConfirmedGroup(proc.pid, proc.startTime, 'SIGCONT');
    await Promise.all(live.map((proc) => untilStopped(proc, false)));
  }

  /** The freezer, as pause and resume use it: one that fails because init exited (its cgroup removed) is refused as racing the exit. */
  private async setFrozen(state: ContainerState, frozen: boolean): Promise<void> {
    try {
      await state.cgroup!.setFrozen(frozen);
      state.frozen = frozen;
    } catch (err) {
      if (state.initExited) throw new BerthError('invalid-state', `container ${state.id} exited while ${frozen ? 'pausing' : 'resuming'}`, { cause: err });
      throw err;
    }
  }

  async update(id: string, resources: LinuxResources): Promise<void> {
    const state = this.state(id);
    checkResources(this.cgroups, resources);
    if (!state.cgroup) throw new BerthError('unsupported', `container ${id} has no cgroup (it was made without one), so no limits to update`);
    state.cgroup.apply(resources);
    state.resources = mergeResources(state.resources, resources);
  }

  async stats(id: string): Promise<ContainerStats> {
    const { cgroup } = this.state(id);
    if (!cgroup) throw new BerthError('unsupported', `container ${id} has no cgroup, so no statistics: ${'unavailable' in this.cgroups ? this.cgroups.unavailable : 'it was made without one'}`);
    return cgroup.stats();
  }

  /** Its cgroup's processes; without one, its live processes and what they started (a child that left for another parent is missed). */
  async pids(id: string): Promise<number[]> {
    const state = this.state(id);
    if (state.cgroup) return state.cgroup.pids();
    return withDescendants([...state.processes.values()].filter((p) => !p.exited && p.pid > 0).map((p) => p.pid));
  }

  async checkpoint(): Promise<{ imagePath: string }> {
    throw new BerthError('unsupported', 'the process runtime cannot checkpoint; use the runc runtime');
  }

  async delete(id: string): Promise<void> {
    const state = this.containers.get(id);
    state?.watcher?.close();
    if (state) for (const proc of state.processes.values()) endTree(proc);
    if (state?.cgroup) await removeCgroup(state.cgroup);
    rmSync(join(this.containersDir, id), { recursive: true, force: true });
    this.containers.delete(id);
  }

  logFile(id: string, processId: string): LogFile {
    return { path: join(this.state(id).dir, `${processId}.log`), format: 'plain' };
  }

  async close(): Promise<void> {
    clearInterval(this.watchdog);
    await this.sweep.stop();
    this.shim.close();
    for (const state of this.containers.values()) state.watcher?.close();
    this.containers.clear();
    if ('tree' in this.cgroups) this.cgroups.tree.close();
  }

  /** Before restore: the cgroups of containers the registry does not know (a create cut short) are emptied and removed. */
  async reconcile(known: ReadonlySet<string>): Promise<void> {
    if (!('tree' in this.cgroups)) return;
    const { tree } = this.cgroups;
    for (const id of tree.ids()) {
      const cgroup = known.has(id) ? undefined : tree.find(id);
      if (cgroup) await removeCgroup(cgroup);
    }
  }
}
