import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { BerthError } from '../../errors.js';
import type { CheckpointOptions, ContainerSpec, ContainerStats, ExitInfo, LinuxResources, ProcessSpec } from '../../types.js';
import { INIT, type ResolvedSignal } from '../../validate.js';
import { launchConmon, runcError } from './conmon.js';
import { ShimClient } from '../process/shim-client.js';
import type { LogFile } from '../os/process-log.js';
import { isSameProcess, processRunning, processStartTime, readIfPresent } from '../os/os-process.js';
import { lostExit } from '../os/exit-status.js';
import type { StoredContainer } from '../journal/projection.js';
import { moveAside } from '../os/quarantine.js';
import { removeCgroupParent, removeUnknownCgroups, runtimeBundle, writeRuntimeBundle } from './runc-bundle.js';
import {
  ATTEMPT_SUFFIX, childrenOf, currentAttempt, dropAttempt, killConfirmed, newAttempt, parentPid, processesNaming, readExit, readPid, readRecord, writeRecord,
  type Attempt, type MonitorRecord,
} from './monitor-records.js';
import { initExitJournaled, initLast, processesToRestore, type ExitListener, type RestoredContainer, type Runtime, type StartedProcess } from '../runtime.js';

export interface RuncOptions {
  /** runc binary (default: `runc` on PATH). */
  runc: string;
  /** conmon binary (default: `conmon` on PATH). */
  conmon: string;
  /** Global runc arguments, e.g. ['--root', '/run/berth/runc']. */
  runtimeArgs: string[];
  /** The cgroup of containers whose config names none: `<cgroupParent>/<id>` (see runc-bundle.ts). */
  cgroupParent: string | undefined;
}

interface RuncProcess extends MonitorRecord {
  /** Where this launch's conmon writes; undefined for a process restored as already exited. */
  attempt?: Attempt;
  exited: boolean;
  watcher?: FSWatcher;
}

/** A process known to have ended: nothing of it is ever signalled. */
const ENDED: Omit<RuncProcess, 'exited'> = { pid: 0, startTime: -1, conmonPid: 0, conmonStartTime: -1 };

interface RuncContainer {
  id: string;
  dir: string;
  /** The bundle runc runs: the user's, rewritten into the container's dir (runc-bundle.ts). */
  bundle: string;
  processes: Map<string, RuncProcess>;
  /** Watches init's persist dir: init's conmon sees every OOM kill of the container, for its whole life. */
  oomWatcher?: FSWatcher;
  oomReported: boolean;
}

const MONITOR_CHECK_MS = 1_000;

/**
 * Real OCI containers: runc runs them, Debian's conmon monitors each container
 * and each exec (so they outlive the supervisor and their exit codes are never
 * lost), and exits are learned from conmon's exit files, watched with inotify.
 */
export class RuncRuntime implements Runtime {
  readonly name = 'runc';
  private readonly containers = new Map<string, RuncContainer>();
  private listener: ExitListener = () => {};
  private oomListener: (containerId: string) => void = () => {};
  private readonly watchdog: NodeJS.Timeout;
  private readonly shim = new ShimClient();

  constructor(
    private readonly containersDir: string,
    private readonly checkpointsDir: string,
    private readonly startTimeoutMs: number,
    private readonly options: RuncOptions,
  ) {
    // Left referenced on purpose: like a server, an open supervisor keeps Node running until close().
    this.watchdog = setInterval(() => this.checkMonitors(), MONITOR_CHECK_MS);
  }

  onExit(listener: ExitListener): void {
    this.listener = listener;
  }

  onOom(listener: (containerId: string) => void): void {
    this.oomListener = listener;
  }

  private runc(args: string[], input?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = execFile(this.options.runc, [...this.options.runtimeArgs, ...args], (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const said = runcError(stderr) || err.message;
        // The container stopped under us (init died an instant ago): a state error, not a runtime failure.
        const code = /container not running|container is not running|is stopped/.test(said) ? 'invalid-state' : 'runtime-error';
        reject(new BerthError(code, `runc ${args[0]}: ${said}`));
      });
      if (input !== undefined) child.stdin!.end(input);
    });
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
      '-b', state.bundle,
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
    this.watchExit(state, processId, proc);
    if (processId === INIT) this.watchOom(state, attempt);
    try {
      const args = [...this.conmonArgs(state, processId, attempt), ...extra];
      proc.pid = await launchConmon(this.shim, this.options.conmon, args, attempt.persistDir, this.startTimeoutMs);
      proc.startTime = processStartTime(proc.pid) ?? -1;
      const conmonPid = readPid(attempt.conmonPidFile);
      if (conmonPid === undefined) throw new Error(`conmon left no readable pid file at ${attempt.conmonPidFile}`);
      proc.conmonPid = conmonPid;
      proc.conmonStartTime = processStartTime(conmonPid) ?? -1;
      writeRecord(attempt, proc);
    } catch (err) {
      proc.watcher?.close();
      state.processes.delete(processId);
      killAttempt(attempt);
      dropAttempt(state.dir, processId, attempt);
      throw err;
    }
    this.exitFileAppeared(state, processId); // it may have exited already
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
      bundle = writeRuntimeBundle(spec.bundle, dir, this.options.cgroupParent, id);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    const state: RuncContainer = { id, dir, bundle, processes: new Map(), oomReported: false };
    this.containers.set(id, state);
    try {
      await this.monitored(state, INIT, []);
    } catch (err) {
      // Leave nothing behind: no runc state, no conmon, no directory.
      state.oomWatcher?.close();
      await this.runc(['delete', '--force', id]).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      this.containers.delete(id);
      throw new BerthError(failureCode(err), `cannot create ${id}: ${(err as Error).message}`);
    }
  }

  async start(id: string): Promise<StartedProcess> {
    const state = this.state(id);
    await this.runc(['start', id]);
    return { pid: state.processes.get(INIT)!.pid };
  }

  async exec(id: string, execId: string, spec: ProcessSpec): Promise<StartedProcess> {
    const state = this.state(id);
    // The bundle's process is the template (user, capabilities, rlimits); args, env and cwd are the exec's.
    const base = readProcessTemplate(state.bundle);
    const env = [...((base.env as string[] | undefined) ?? []), ...Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`)];
    const processJson = join(state.dir, `${execId}.process.json`);
    writeFileSync(processJson, JSON.stringify({ ...base, terminal: false, args: spec.args, env, cwd: spec.cwd ?? base.cwd ?? '/' }), { mode: 0o600 });
    try {
      const proc = await this.monitored(state, execId, ['--exec', '--exec-process-spec', processJson]);
      return { pid: proc.pid };
    } catch (err) {
      // A process that got as far as exec'ing its program was inside the container: no race with init there.
      if (failureCode(err) !== 'invalid-spec' && (await this.initGone(state))) {
        // The race every supervisor has: init died while the exec was starting.
        throw new BerthError('invalid-state', `container ${id} exited while exec ${execId} was starting: ${(err as Error).message}`);
      }
      throw new BerthError(failureCode(err), `cannot exec ${execId} in ${id}: ${(err as Error).message}`);
    }
  }

  /**
   * Whether init is gone, or going: a dying process loses its namespaces (what
   * makes a racing `runc exec` fail) a moment before it becomes a zombie, so an
   * exec failure gives it a short while to finish dying before calling it a runtime error.
   */
  private async initGone(state: RuncContainer): Promise<boolean> {
    const deadline = Date.now() + 500;
    for (;;) {
      const init = state.processes.get(INIT);
      if (!init || init.exited || !processRunning(init.pid)) return true;
      if (Date.now() > deadline) return false;
      await new Promise((done) => setTimeout(done, 10));
    }
  }

  async signal(id: string, processId: string, signal: ResolvedSignal): Promise<void> {
    const proc = this.state(id).processes.get(processId);
    if (!proc || proc.exited) throw new BerthError('invalid-state', `process ${processId} of ${id} is not running`);
    if (processId === INIT) {
      await this.runc(['kill', id, String(signal.number)]);
      return;
    }
    // An exit conmon has recorded is delivered, not signalled; a pid that is no longer this exec's is never signalled.
    this.exitFileAppeared(this.state(id), processId);
    try {
      if (proc.exited || !isSameProcess(proc.pid, proc.startTime)) throw new Error('gone');
      process.kill(proc.pid, signal.number);
    } catch {
      throw new BerthError('invalid-state', `process ${processId} of ${id} is not running`);
    }
  }

  async pause(id: string): Promise<void> {
    await this.runc(['pause', id]);
  }

  async resume(id: string): Promise<void> {
    await this.runc(['resume', id]);
  }

  async update(id: string, resources: LinuxResources): Promise<void> {
    await this.runc(['update', '--resources', '-', id], JSON.stringify(resources));
  }

  async stats(id: string): Promise<ContainerStats> {
    const raw = parseJson(await this.runc(['events', '--stats', id]), `runc events --stats ${id}`) as { data?: RuncStats } | null;
    return toStats(raw?.data ?? {}, raw);
  }

  async checkpoint(id: string, options: CheckpointOptions): Promise<{ imagePath: string }> {
    const imagePath = options.imagePath ?? join(this.checkpointsDir, id, options.name);
    mkdirSync(imagePath, { recursive: true, mode: 0o700 });
    const args = ['checkpoint', '--image-path', imagePath, '--work-path', join(imagePath, 'criu.work')];
    if (options.leaveRunning) args.push('--leave-running');
    if (options.tcpEstablished) args.push('--tcp-established');
    if (options.unixSockets) args.push('--ext-unix-sk');
    if (options.shellJob) args.push('--shell-job');
    for (const ns of options.emptyNamespaces ?? []) args.push('--empty-ns', ns);
    try {
      await this.runc([...args, id]);
    } catch (err) {
      throw new BerthError('runtime-error', `checkpoint of ${id} failed (runc checkpoint uses criu): ${(err as Error).message}`);
    }
    return { imagePath };
  }

  async delete(id: string): Promise<void> {
    const state = this.containers.get(id);
    await this.runc(['delete', '--force', id]).catch((err: BerthError) => {
      if (!/does not exist|not exist/.test(err.message)) throw err;
    });
    state?.oomWatcher?.close();
    for (const proc of state?.processes.values() ?? []) {
      proc.watcher?.close();
      killConfirmed(proc.conmonPid, proc.conmonStartTime);
    }
    rmSync(join(this.containersDir, id), { recursive: true, force: true });
    this.containers.delete(id);
  }

  /** conmon writes its k8s-file format (`-l k8s-file:<path>`). */
  logFile(id: string, processId: string): LogFile {
    return { path: join(this.state(id).dir, `${processId}.log`), format: 'k8s' };
  }

  /**
   * Before restore: what a supervisor killed in the middle of a create left
   * behind, which the registry never learned of — a runc container of this state
   * dir, its conmon, a runc call still running, an empty cgroup — is killed and
   * removed, so the id can be used again. Its directory is quarantined afterwards.
   * Only what is provably this state dir's is touched: processes whose command
   * line names its containers dir, runc containers whose bundle is there.
   */
  async reconcile(known: ReadonlySet<string>): Promise<void> {
    const prefix = `${this.containersDir}/`;
    const tools = new Set([this.options.conmon, this.options.runc, 'conmon', 'runc']);
    for (const proc of processesNaming(prefix)) {
      const id = proc.args.find((arg) => arg.startsWith(prefix))!.slice(prefix.length).split('/')[0]!;
      const isTool = proc.args.slice(0, 2).some((arg) => tools.has(arg) || tools.has(basename(arg)));
      if (isTool && !known.has(id)) killConfirmed(proc.pid, proc.startTime);
    }
    const ours = (await this.runcList()).filter(({ id, bundle }) => bundle === runtimeBundle(join(this.containersDir, id))).map((c) => c.id);
    // A `runc create` killed half-way leaves runc a state dir it cannot list; the container's own directory says it was ours.
    const root = runcRoot(this.options.runtimeArgs);
    const halfCreated = readdirSync(this.containersDir).filter((id) => existsSync(join(root, id)));
    for (const id of new Set([...ours, ...halfCreated])) {
      if (known.has(id)) continue;
      await this.runc(['delete', '--force', id]).catch(() => {
        // runc cannot read what it half wrote; in berth's own root, nobody else's container can be there.
        if (root.startsWith(`${join(this.containersDir, '..')}/`)) rmSync(join(root, id), { recursive: true, force: true });
      });
    }
    if (this.options.cgroupParent) await removeUnknownCgroups(this.options.cgroupParent, known);
  }

  /** runc's containers (`runc list`), or none if runc cannot list them: then nothing is removed. */
  private async runcList(): Promise<{ id: string; bundle: string }[]> {
    const listed = parseJsonOr(await this.runc(['list', '--format', 'json']).catch(() => 'null'));
    return Array.isArray(listed)
      ? listed.filter((c): c is { id: string; bundle: string } => typeof c?.id === 'string' && typeof c?.bundle === 'string')
      : [];
  }

  /** The bundle runc ran, as the container's dir keeps it (the user's own may be gone or edited since). */
  recoverSpec(dir: string): ContainerSpec | undefined {
    const bundle = runtimeBundle(dir);
    return existsSync(join(bundle, 'config.json')) ? { bundle } : undefined;
  }

  restore(stored: StoredContainer): RestoredContainer {
    const dir = join(this.containersDir, stored.id);
    const bundle = runtimeBundle(dir);
    // An OOM kill seen before the crash was journaled with its exit; one seen since is reported with the exit.
    const state: RuncContainer = { id: stored.id, dir, bundle, processes: new Map(), oomReported: stored.status === 'exited' };
    this.containers.set(stored.id, state);
    const restored: RestoredContainer = { id: stored.id, startedWhileDown: [], exits: [] };
    const lost = !existsSync(dir);
    mkdirSync(join(dir, 'sockets'), { recursive: true, mode: 0o700 });
    const journaled = new Set(stored.processes.map((p) => p.id));
    // Each launch names its attempt before conmon runs, so an exec whose start was never journaled is found too.
    for (const proc of processesToRestore(stored, dir, ATTEMPT_SUFFIX)) {
      if (proc.status === 'exited') {
        state.processes.set(proc.id, { ...ENDED, exited: true });
        continue;
      }
      const attempt = lost ? undefined : currentAttempt(dir, proc.id);
      const record = attempt && this.monitorRecord(state, attempt);
      if (!record) {
        if (proc.status === 'running' || lost) {
          // Whatever still runs of it could never be reported: it must not run on unknown to berth.
          if (attempt) this.killLost(state, proc.id, attempt);
          restored.exits.push({ processId: proc.id, exit: lostExit(lost ? 'state-lost' : 'shim-lost') });
        } else if (attempt && !journaled.has(proc.id)) {
          // An exec launch cut short by the crash: it never ran as far as berth can tell, so nothing of it may run on.
          killAttempt(attempt);
          dropAttempt(dir, proc.id, attempt);
        }
        continue;
      }
      if (proc.status === 'created' && proc.id !== INIT && initExitJournaled(stored)) {
        // Launched by a dead supervisor after init's exit was journaled: its start can never be published in order.
        killAttempt(attempt);
        dropAttempt(dir, proc.id, attempt);
        continue;
      }
      const live: RuncProcess = { ...record, attempt, exited: false };
      state.processes.set(proc.id, live);
      // runc create writes init's pid before `runc start`: only runc knows whether it was started.
      const started = proc.id !== INIT || proc.status === 'running' || this.runcStatus(state.id) !== 'created';
      if (proc.status === 'created' && started) restored.startedWhileDown.push({ processId: proc.id, pid: live.pid });
      const exit = readExit(attempt, state.id);
      if (exit) {
        live.exited = true;
        restored.exits.push({ processId: proc.id, exit });
      } else if (isSameProcess(live.conmonPid, live.conmonStartTime)) {
        this.watchExit(state, proc.id, live);
        if (proc.id === INIT) this.watchOom(state, attempt);
        this.exitFileAppeared(state, proc.id);
      } else {
        live.exited = true;
        const recorded = readExit(attempt, state.id);
        if (!recorded) this.killOrphan(state, proc.id, live);
        restored.exits.push({ processId: proc.id, exit: recorded ?? lostExit('shim-lost') });
      }
    }
    initLast(restored.exits);
    return restored;
  }

  /**
   * A launch as berth recorded it (pids with their start times). If the
   * supervisor died before writing that, conmon and runc's pid files are believed
   * only when what they say is checked: an exit conmon recorded in this attempt
   * (nothing left to signal then), or a live conmon naming this attempt that is
   * the process's parent.
   */
  private monitorRecord(state: RuncContainer, attempt: Attempt): MonitorRecord | undefined {
    const ours = readRecord(attempt);
    if (ours) return ours;
    const pid = readPid(attempt.pidFile);
    const conmonPid = readPid(attempt.conmonPidFile);
    if (pid === undefined || conmonPid === undefined) return undefined;
    if (readExit(attempt, state.id)) return { ...ENDED, pid, conmonPid };
    const cmdline = readIfPresent(`/proc/${conmonPid}/cmdline`)?.split('\0') ?? [];
    const startTime = processStartTime(pid);
    const conmonStartTime = processStartTime(conmonPid);
    if (!cmdline.includes(attempt.exitDir) || parentPid(pid) !== conmonPid || startTime === undefined || conmonStartTime === undefined) {
      return undefined;
    }
    return { pid, startTime, conmonPid, conmonStartTime };
  }

  private runcStatus(id: string): string | undefined {
    try {
      const out = execFileSync(this.options.runc, [...this.options.runtimeArgs, 'state', id], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      return (JSON.parse(out) as { status?: string }).status;
    } catch {
      return undefined;
    }
  }

  private watchOom(state: RuncContainer, initAttempt: Attempt): void {
    mkdirSync(initAttempt.persistDir, { recursive: true, mode: 0o700 });
    state.oomWatcher = watch(initAttempt.persistDir, () => this.oomFileAppeared(state));
    state.oomWatcher.unref();
  }

  /** An `oom` dropped by the conmon of any process of the container: one OOM event per container. */
  private oomFileAppeared(state: RuncContainer): void {
    if (state.oomReported) return;
    const attempts = [...state.processes.values()].flatMap((proc) => (proc.attempt ? [proc.attempt] : []));
    if (!attempts.some((attempt) => existsSync(join(attempt.persistDir, 'oom')))) return;
    state.oomReported = true;
    this.oomListener(state.id);
  }

  private watchExit(state: RuncContainer, processId: string, proc: RuncProcess): void {
    proc.watcher = watch(proc.attempt!.exitDir, () => this.exitFileAppeared(state, processId));
    proc.watcher.unref();
  }

  private exitFileAppeared(state: RuncContainer, processId: string): void {
    const attempt = state.processes.get(processId)?.attempt;
    const exit = attempt && readExit(attempt, state.id);
    if (exit) this.deliver(state, processId, exit);
  }

  /** Reports an exit exactly once, however it was learned. */
  private deliver(state: RuncContainer, processId: string, exit: ExitInfo): void {
    const proc = state.processes.get(processId);
    if (!proc || proc.exited) return;
    proc.exited = true;
    proc.watcher?.close();
    // A conmon writes `oom` before the exit status it caused; the watcher may not have told us yet.
    this.oomFileAppeared(state);
    this.listener(state.id, processId, exit);
  }

  /**
   * A conmon that died without writing an exit status: 255 'shim-lost', and what
   * it watched is killed, since nobody could ever report its end.
   */
  private checkMonitors(): void {
    for (const state of this.containers.values()) {
      for (const [processId, proc] of state.processes) {
        if (proc.exited || proc.conmonPid <= 0 || isSameProcess(proc.conmonPid, proc.conmonStartTime)) continue;
        const recorded = proc.attempt && readExit(proc.attempt, state.id);
        if (!recorded) this.killOrphan(state, processId, proc);
        this.deliver(state, processId, recorded ?? lostExit('shim-lost'));
      }
    }
  }

  private killOrphan(state: RuncContainer, processId: string, proc: RuncProcess): void {
    if (processId === INIT) void this.killContainer(state);
    else killConfirmed(proc.pid, proc.startTime);
  }

  /**
   * A process whose records cannot be read: init takes its whole container with
   * it; an exec's processes are found as the children of its conmon (the conmon
   * that names its attempt dir), each confirmed by pid and start time.
   */
  private killLost(state: RuncContainer, processId: string, attempt: Attempt): void {
    if (processId === INIT) {
      void this.killContainer(state);
      return;
    }
    for (const conmon of processesNaming(`${attempt.dir}/`)) {
      for (const child of childrenOf(conmon.pid)) killConfirmed(child.pid, child.startTime);
    }
  }

  /** SIGKILLs every process of a container, once runc confirms that its container of that id is this one (its bundle is ours). */
  private async killContainer(state: RuncContainer): Promise<void> {
    const known = parseJsonOr(await this.runc(['state', state.id]).catch(() => 'null')) as { bundle?: unknown } | null | undefined;
    if (known?.bundle === state.bundle) await this.runc(['kill', '--all', state.id, 'KILL']).catch(() => undefined);
  }

  async close(): Promise<void> {
    clearInterval(this.watchdog);
    this.shim.close();
    for (const state of this.containers.values()) {
      state.oomWatcher?.close();
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

/** runc's state root: the runtime args' `--root`, or runc's default. */
function runcRoot(runtimeArgs: string[]): string {
  const at = runtimeArgs.indexOf('--root');
  const inline = runtimeArgs.find((arg) => arg.startsWith('--root='));
  return resolve(at >= 0 && runtimeArgs[at + 1] ? runtimeArgs[at + 1]! : (inline?.slice('--root='.length) ?? '/run/runc'));
}

/** Kills whatever still names a launch's attempt dir: its conmon, and a `runc create` or `runc exec` it had started. */
function killAttempt(attempt: Attempt): void {
  for (const proc of processesNaming(`${attempt.dir}/`)) killConfirmed(proc.pid, proc.startTime);
}

function parseJsonOr(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** JSON that runc or berth wrote; anything else is a runtime error saying where it came from, never a crash. */
function parseJson(text: string, from: string): unknown {
  const parsed = parseJsonOr(text);
  if (parsed === undefined) throw new BerthError('runtime-error', `${from}: not JSON: ${JSON.stringify(text.slice(0, 200))}`);
  return parsed;
}

/** The process of the container's own config.json, the template of its execs. */
function readProcessTemplate(bundle: string): Record<string, unknown> {
  const path = join(bundle, 'config.json');
  const config = parseJson(readIfPresent(path) ?? '', path) as { process?: unknown } | null;
  if (typeof config?.process !== 'object' || config.process === null) {
    throw new BerthError('runtime-error', `${path} has no process to run execs as`);
  }
  return config.process as Record<string, unknown>;
}

interface RuncStats {
  cpu?: { usage?: { total?: number; user?: number; kernel?: number; percpu?: number[] } };
  memory?: { usage?: { usage?: number; limit?: number; max?: number; failcnt?: number } };
  pids?: { current?: number; limit?: number };
}

function toStats(data: RuncStats, raw: unknown): ContainerStats {
  return {
    cpu: {
      totalNs: data.cpu?.usage?.total ?? 0,
      userNs: data.cpu?.usage?.user ?? 0,
      kernelNs: data.cpu?.usage?.kernel ?? 0,
      perCpuNs: data.cpu?.usage?.percpu ?? [],
    },
    memory: {
      usage: data.memory?.usage?.usage ?? 0,
      limit: data.memory?.usage?.limit ?? 0,
      max: data.memory?.usage?.max ?? 0,
      failcnt: data.memory?.usage?.failcnt ?? 0,
    },
    pids: { current: data.pids?.current ?? 0, limit: data.pids?.limit ?? 0 },
    raw,
  };
}
