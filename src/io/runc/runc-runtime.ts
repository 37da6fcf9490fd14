import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError } from '../../errors.js';
import type { CheckpointOptions, ContainerSpec, ContainerStats, LinuxResources, ProcessSpec } from '../../types.js';
import type { Logger } from 'pino';
import { guarded } from '../os/guarded.js';
import { INIT, type ResolvedSignal } from '../../validate.js';
import { launchConmon } from './conmon.js';
import { ShimClient } from '../process/shim-client.js';
import type { LogFile } from '../os/process-log.js';
import { killConfirmed, processRunning, processStartTime } from '../os/os-process.js';
import type { StoredContainer } from '../journal/projection.js';
import { moveAside } from '../os/quarantine.js';
import { readProcessTemplate, removeCgroupParent, runtimeBundle, writeRuntimeBundle } from './runc-bundle.js';
import { ociJson } from './oci-json.js';
import { currentAttempt, dropAttempt, newAttempt, readPid, writeRecord, type Attempt } from './monitor-records.js';
import { childStartTime, killAttempt } from './attempt-processes.js';
import { parseJson, RuncCli } from './runc-cli.js';
import { ENDED, type RuncContainer, type RuncProcess } from './runc-container.js';
import { ExitWatch } from './exit-watch.js';
import { execFifo, startThroughFifo } from './exec-fifo.js';
import { restoreContainer } from './restore.js';
import { reconcileUnknown } from './reconcile.js';
import { checkpointContainer, containerStats } from './stats-checkpoint.js';
import { ConmonLogRotation } from './conmon-log-rotation.js';
import type { ExitListener, RestoredContainer, Runtime, StartedProcess } from '../runtime.js';

export interface RuncOptions {
  /** runc binary (default: `runc` on PATH). */
  runc: string;
  /** conmon binary (default: `conmon` on PATH). */
  conmon: string;
  /** Global runc arguments, e.g. ['--root', '/run/berth/runc']. */
  runtimeArgs: string[];
  /** The cgroup of containers whose config names none: `<cgroupParent>/<id>` (see runc-bundle.ts). */
  cgroupParent: string | undefined;
  /** How long one runc call may take before it is killed and fails (default RUNC_TIMEOUT_MS; a checkpoint has its own). */
  runcTimeoutMs?: number;
}

const MONITOR_CHECK_MS = 1_000;

/**
 * Real OCI containers: runc runs them, Debian's conmon monitors each container
 * and each exec (so they outlive the supervisor and their exit codes are never
 * lost), and exits are learned from conmon's exit files (exit-watch.ts).
 * Restore and reconciliation after a crash live in restore.ts and reconcile.ts.
 */
export class RuncRuntime implements Runtime {
  readonly name = 'runc';
  private readonly containers = new Map<string, RuncContainer>();
  private readonly runc: RuncCli;
  private readonly exits: ExitWatch;
  private readonly watchdog: NodeJS.Timeout;
  private readonly shim = new ShimClient();
  /** What runc said of each container at reconcile (before restore, which must not wait on runc: see reconcile). */
  private runcStatuses = new Map<string, string>();

  constructor(
    private readonly containersDir: string,
    private readonly checkpointsDir: string,
    private readonly startTimeoutMs: number,
    private readonly options: RuncOptions,
    private readonly logger: Logger,
  ) {
    this.runc = new RuncCli(options.runc, options.runtimeArgs, options.runcTimeoutMs);
    this.exits = new ExitWatch(this.runc, logger);
    // Left referenced on purpose: like a server, an open supervisor keeps Node running until close().
    this.watchdog = setInterval(
      () => guarded(logger, 'runc runtime: checking the conmons', () => this.exits.checkMonitors(this.containers.values())),
      MONITOR_CHECK_MS,
    );
  }

  onExit(listener: ExitListener): void {
    this.exits.onExit(listener);
  }

  onOom(listener: (containerId: string) => void): void {
    this.exits.onOom(listener);
  }

  private state(id: string): RuncContainer {
    const state = this.containers.get(id);
    if (!state) throw new BerthError('not-found', `container ${id} not found in the runc runtime`);
    return state;
  }

  private conmonArgs(state: RuncContainer, processId: string, attempt: Attempt): string[] {
    const runtimeArgs = this.options.runtimeArgs.flatMap((arg) => ['--runtime-arg', arg]);
    return [
      '--api-version', '1',
      '-c', state.id,
      '-u', processId === INIT ? state.id : `${state.id}-${processId}`,
      '-n', state.id,
      '-r', this.options.runc,
      // An exec's conmon gets a bundle dir of its own (runc exec reads none), so its control fifo and attach socket are its own.
      '-b', processId === INIT ? state.bundle : attempt.dir,
      '-p', attempt.pidFile,
      '-P', attempt.conmonPidFile,
      '-l', `k8s-file:${join(state.dir, `${processId}.log`)}`,
      '--exit-dir', attempt.exitDir,
      '--socket-dir-path', join(state.dir, 'sockets'),
      '--log-level', 'error',
      '-0', attempt.persistDir,
      ...runtimeArgs,
    ];
  }

  /**
   * Starts a process's conmon in a fresh attempt directory and records it; the
   * exit dir is watched before the process can exit. A launch that fails leaves
   * nothing running that names its attempt, and no attempt to restore.
   */
  private async monitored(state: RuncContainer, processId: string, extra: string[]): Promise<RuncProcess> {
    const attempt = newAttempt(state.dir, processId);
    const proc: RuncProcess = { ...ENDED, attempt, exited: false };
    state.processes.set(processId, proc);
    this.exits.watchExit(state, processId, proc);
    if (processId === INIT) this.exits.watchOom(state, attempt);
    try {
      const args = [...this.conmonArgs(state, processId, attempt), ...extra];
      proc.pid = await launchConmon(this.shim, this.options.conmon, args, attempt.persistDir, this.startTimeoutMs);
      const conmonPid = readPid(attempt.conmonPidFile);
      if (conmonPid === undefined) throw new Error(`conmon left no readable pid file at ${attempt.conmonPidFile}`);
      proc.conmonPid = conmonPid;
      proc.conmonStartTime = processStartTime(conmonPid) ?? -1;
      // Read after the fact: the process may have ended already, and its pid gone to another.
      proc.startTime = childStartTime(proc.pid, conmonPid, proc.conmonStartTime);
      writeRecord(attempt, proc);
    } catch (err) {
      proc.watcher?.close();
      state.processes.delete(processId);
      killAttempt(attempt);
      dropAttempt(state.dir, processId, attempt);
      throw err;
    }
    this.exits.exitFileAppeared(state, processId); // it may have exited already
    return proc;
  }

  async create(id: string, spec: ContainerSpec): Promise<void> {
    if (!('bundle' in spec)) {
      throw new BerthError('invalid-spec', 'the runc runtime runs an OCI bundle ({ bundle: "/path" }); processes need the process runtime');
    }
    if (!existsSync(join(spec.bundle, 'config.json'))) {
      throw new BerthError('invalid-spec', `bundle ${spec.bundle} has no config.json`);
    }
    const dir = join(this.containersDir, id);
    moveAside(this.containersDir, dir); // a leftover is kept as evidence, never reused
    mkdirSync(join(dir, 'sockets'), { recursive: true, mode: 0o700 });
    let bundle: string;
    try {
      bundle = writeRuntimeBundle(spec.bundle, dir, this.options.cgroupParent, id, spec.resources, spec.process);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    const state: RuncContainer = { id, dir, bundle, processes: new Map(), oomReported: false };
    this.containers.set(id, state);
    if (spec.logs) state.logRotation = new ConmonLogRotation(state, spec.logs, this.logger);
    try {
      await this.monitored(state, INIT, []);
    } catch (err) {
      // Leave nothing behind: no runc state, no conmon, no directory.
      state.oomWatcher?.close();
      state.logRotation?.close();
      await this.runc.run(['delete', '--force', id]).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      this.containers.delete(id);
      throw new BerthError(failureCode(err), `cannot create ${id}: ${(err as Error).message}`);
    }
  }

  async start(id: string): Promise<StartedProcess> {
    const init = this.state(id).processes.get(INIT)!;
    const fifo = execFifo(this.runc.root(), id);
    if (fifo) await startThroughFifo(this.shim, fifo, init, this.runc.timeoutMs);
    else await this.runc.run(['start', id]);
    return { pid: init.pid };
  }

  /**
   * runc keeps a container whose init exited as `stopped`, and cannot start it
   * again: it is deleted, and init's attempt with it, so that only a launch of
   * the next generation can be found from now on. The container's dir stays.
   * A launch no record names (its supervisor died before conmon reported) is
   * killed first, so that it can create nothing once runc's container is gone.
   */
  async retireInit(id: string): Promise<void> {
    const state = this.state(id);
    const attempt = currentAttempt(state.dir, INIT);
    if (attempt && !state.processes.has(INIT)) killAttempt(attempt);
    await this.runc.run(['delete', '--force', id]).catch((err: BerthError) => {
      if (!/does not exist|not exist/.test(err.message)) throw err;
    });
    const init = state.processes.get(INIT);
    init?.watcher?.close();
    if (init) killConfirmed(init.conmonPid, init.conmonStartTime, 'SIGKILL');
    state.oomWatcher?.close();
    state.processes.delete(INIT);
    if (attempt) dropAttempt(state.dir, INIT, attempt);
  }

  /**
   * The next generation of init: runc creates the container again from the same
   * bundle, under a new conmon whose log appends to init's. One already created
   * by a supervisor that died before starting it is started as it is.
   */
  async restart(id: string): Promise<StartedProcess> {
    const state = this.state(id);
    const created = state.processes.get(INIT);
    try {
      if (!created || created.exited) {
        // A launch restore could not adopt may still run, or have left runc a container under this id.
        if (!created && currentAttempt(state.dir, INIT)) await this.retireInit(id);
        state.oomReported = false; // one OOM event per generation
        await this.monitored(state, INIT, []);
      }
      return await this.start(id);
    } catch (err) {
      // Nothing of the failed generation is left to be found: the next attempt starts clean.
      await this.retireInit(id).catch(() => undefined);
      throw new BerthError(failureCode(err), `cannot restart ${id}: ${(err as Error).message}`);
    }
  }

  async exec(id: string, execId: string, spec: ProcessSpec): Promise<StartedProcess> {
    if (spec.inheritEnv) {
      throw new BerthError('invalid-spec', "inheritEnv is the process runtime's: a runc container's environment is its config.json's and the exec's env");
    }
    const state = this.state(id);
    // The bundle's process is the template (user, capabilities, rlimits); args, env and cwd are the exec's, and user and rlimits if it names them.
    const base = readProcessTemplate(state.bundle);
    const env = [...((base.env as string[] | undefined) ?? []), ...Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`)];
    const processJson = join(state.dir, `${execId}.process.json`);
    const identity = { ...(spec.user ? { user: spec.user } : {}), ...(spec.rlimits ? { rlimits: spec.rlimits } : {}) };
    writeFileSync(processJson, ociJson({ ...base, ...identity, terminal: false, args: spec.args, env, cwd: spec.cwd ?? base.cwd ?? '/' }), { mode: 0o600 });
    try {
      const proc = await this.monitored(state, execId, ['--exec', '--exec-process-spec', processJson]);
      return { pid: proc.pid };
    } catch (err) {
      // A process that got as far as exec'ing its program was inside the container: no race with init there.
      const code = failureCode(err) === 'invalid-spec' ? 'invalid-spec' : await this.unlessInitGone(state);
      const what = code === 'invalid-state' ? `container ${id} exited while exec ${execId} was starting` : `cannot exec ${execId} in ${id}`;
      throw new BerthError(code, `${what}: ${(err as Error).message}`);
    }
  }

  /**
   * 'invalid-state' if init is gone, or going: the race every supervisor has, a
   * runc call made just as init died. A dying process loses its namespaces (what
   * makes a racing `runc exec` fail) a moment before it becomes a zombie, so init
   * is given a short while to finish dying before the failure is called the runtime's.
   */
  private async unlessInitGone(state: RuncContainer): Promise<'invalid-state' | 'runtime-error'> {
    const deadline = Date.now() + 500;
    for (;;) {
      const init = state.processes.get(INIT);
      if (!init || init.exited || !processRunning(init.pid)) return 'invalid-state';
      if (Date.now() > deadline) return 'runtime-error';
      await new Promise((done) => setTimeout(done, 10));
    }
  }

  /** A runc call on a running container whose failure, if init died during it, is a state error like runc's own "not running". */
  private async whileRunning(id: string, args: string[]): Promise<void> {
    const state = this.state(id);
    try {
      await this.runc.run(args);
    } catch (err) {
      if ((err as BerthError).code !== 'runtime-error' || (await this.unlessInitGone(state)) === 'runtime-error') throw err;
      throw new BerthError('invalid-state', `container ${id} exited during runc ${args[0]}: ${(err as Error).message}`);
    }
  }

  async signal(id: string, processId: string, signal: ResolvedSignal): Promise<void> {
    const proc = this.state(id).processes.get(processId);
    if (!proc || proc.exited) throw new BerthError('invalid-state', `process ${processId} of ${id} is not running`);
    if (processId === INIT) {
      await this.runc.run(['kill', id, String(signal.number)]);
      return;
    }
    // An exit conmon has recorded is delivered, not signalled; a pid that is no longer this exec's is never signalled.
    this.exits.exitFileAppeared(this.state(id), processId);
    if (proc.exited || !killConfirmed(proc.pid, proc.startTime, signal.number)) {
      throw new BerthError('invalid-state', `process ${processId} of ${id} is not running`);
    }
  }

  async pause(id: string): Promise<void> {
    await this.whileRunning(id, ['pause', id]);
  }

  async resume(id: string): Promise<void> {
    await this.whileRunning(id, ['resume', id]);
  }

  async update(id: string, resources: LinuxResources): Promise<void> {
    await this.runc.run(['update', '--resources', '-', id], { input: JSON.stringify(resources) });
  }

  stats(id: string): Promise<ContainerStats> {
    return containerStats(this.runc, id);
  }

  async pids(id: string): Promise<number[]> {
    const listed = parseJson(await this.runc.run(['ps', '--format', 'json', id]), `runc ps ${id}`);
    return Array.isArray(listed) ? listed.filter((pid): pid is number => Number.isSafeInteger(pid)) : [];
  }

  checkpoint(id: string, options: CheckpointOptions): Promise<{ imagePath: string }> {
    return checkpointContainer(this.runc, this.checkpointsDir, id, options);
  }

  async delete(id: string): Promise<void> {
    const state = this.containers.get(id);
    await this.runc.run(['delete', '--force', id]).catch((err: BerthError) => {
      if (!/does not exist|not exist/.test(err.message)) throw err;
    });
    state?.oomWatcher?.close();
    state?.logRotation?.close();
    for (const proc of state?.processes.values() ?? []) {
      proc.watcher?.close();
      killConfirmed(proc.conmonPid, proc.conmonStartTime, 'SIGKILL');
    }
    // Off the event loop: other containers' work goes on meanwhile.
    await rm(join(this.containersDir, id), { recursive: true, force: true });
    this.containers.delete(id);
  }

  /** conmon writes its k8s-file format (`-l k8s-file:<path>`). */
  logFile(id: string, processId: string): LogFile {
    return { path: join(this.state(id).dir, `${processId}.log`), format: 'k8s' };
  }

  /** Also learns, in the one `runc list` it makes, the status runc gives each of this state dir's containers, for restore. */
  async reconcile(known: ReadonlySet<string>): Promise<void> {
    const ours = (await this.runc.list()).filter(({ id, bundle }) => bundle === runtimeBundle(join(this.containersDir, id)));
    this.runcStatuses = new Map(ours.map((c) => [c.id, c.status]));
    await reconcileUnknown(this.runc, ours, this.options.conmon, this.containersDir, this.options.cgroupParent, known);
  }

  /** The bundle runc ran, as the container's dir keeps it (the user's own may be gone or edited since). */
  recoverSpec(dir: string): ContainerSpec | undefined {
    const bundle = runtimeBundle(dir);
    return existsSync(join(bundle, 'config.json')) ? { bundle } : undefined;
  }

  restore(stored: StoredContainer): RestoredContainer {
    const runcStatus = this.runcStatuses.get(stored.id);
    const restored = restoreContainer(stored, { containersDir: this.containersDir, containers: this.containers, runc: this.runc, exits: this.exits, runcStatus });
    const state = this.containers.get(stored.id);
    // Rotation goes on where the supervisor that died left it (a log renamed but not yet reopened included).
    if (stored.spec.logs && state && stored.status !== 'exited') state.logRotation = new ConmonLogRotation(state, stored.spec.logs, this.logger);
    return restored;
  }

  async close(): Promise<void> {
    clearInterval(this.watchdog);
    this.runc.close();
    this.shim.close();
    for (const state of this.containers.values()) {
      state.oomWatcher?.close();
      state.logRotation?.close();
      for (const proc of state.processes.values()) proc.watcher?.close();
    }
    this.containers.clear();
    if (this.options.cgroupParent) removeCgroupParent(this.options.cgroupParent);
  }
}

/**
 * runc's words when the process's program itself could not be run (`exec: "x":
 * executable file not found in $PATH`, a missing path, no permission): the spec's
 * fault, as on the process runtime; anything else is the runtime's.
 */
function failureCode(err: unknown): 'invalid-spec' | 'runtime-error' {
  return /exec: "[^"]*": /.test((err as Error).message) ? 'invalid-spec' : 'runtime-error';
}
