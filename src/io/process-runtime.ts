import {
  accessSync,
  constants as fsConstants,
  existsSync,
  mkdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { BerthError } from '../errors.js';
import type { ProcessSpec } from '../types.js';
import { INIT, type ResolvedSignal } from '../validate.js';
import { exitFrom } from './exit-status.js';
import type { ExitListener, Runtime } from './runtime.js';
import { ShimClient } from './shim-client.js';

interface LiveProcess {
  /** Leader of the process's own group (0 until it has started). */
  pid: number;
  exited: boolean;
}

interface ContainerState {
  dir: string;
  spec: ProcessSpec;
  processes: Map<string, LiveProcess>;
  initExited: boolean;
}

// Metadata operations on the local state dir take microseconds; done synchronously they
// cost less than a thread-pool round trip each, which is what bounds lifecycles per second.

/** Resolves a command the way execvp would, to fail at create rather than at start. */
function resolveExecutable(command: string, cwd: string, env: Record<string, string | undefined>): string {
  const notFound = new BerthError('invalid-spec', `exec: ${JSON.stringify(command)}: executable file not found in $PATH`);
  const candidates = command.includes('/')
    ? [isAbsolute(command) ? command : resolve(cwd, command)]
    : (env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // try the next PATH entry
    }
  }
  throw notFound;
}

function checkCwd(cwd: string): void {
  const info = statSync(cwd, { throwIfNoEntry: false });
  if (!info?.isDirectory()) throw new BerthError('invalid-spec', `cwd ${JSON.stringify(cwd)} is not a directory`);
}

function killGroup(pid: number, signal: NodeJS.Signals | number): boolean {
  if (pid <= 0) return false; // not started yet: -0 would be our own group
  try {
    process.kill(-pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
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

/**
 * The embedded runtime: a container is an init process and its execs, each the
 * leader of its own process group, with stdout and stderr captured to a log file
 * in the container's state dir. When init exits, every group of the container is
 * killed, as the kernel does when a PID namespace's init dies.
 */
export class ProcessRuntime implements Runtime {
  readonly name = 'process';
  private readonly containers = new Map<string, ContainerState>();
  private listener: ExitListener = () => {};

  private readonly shim: ShimClient;

  constructor(
    private readonly containersDir: string,
    private readonly startTimeoutMs: number,
    shimPath?: string,
  ) {
    this.shim = new ShimClient(shimPath);
  }

  onExit(listener: ExitListener): void {
    this.listener = listener;
  }

  private state(id: string): ContainerState {
    const state = this.containers.get(id);
    if (!state) throw new BerthError('not-found', `container ${id} not found in the process runtime`);
    return state;
  }

  async create(id: string, spec: ProcessSpec): Promise<void> {
    const cwd = resolve(spec.cwd ?? process.cwd());
    if (!Array.isArray(spec.args) || spec.args.length === 0 || !spec.args.every((a) => typeof a === 'string')) {
      throw new BerthError('invalid-spec', 'process.args must be a non-empty array of strings');
    }
    checkCwd(cwd);
    resolveExecutable(spec.args[0]!, cwd, { ...process.env, ...spec.env });
    const dir = join(this.containersDir, id);
    this.moveAsideLeftover(dir);
    mkdirSync(dir, { recursive: true });
    const normalized: ProcessSpec = { args: spec.args, env: spec.env ?? {}, cwd };
    try {
      writeFileSync(join(dir, 'spec.json'), JSON.stringify(normalized));
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    this.containers.set(id, { dir, spec: normalized, processes: new Map(), initExited: false });
  }

  /** A directory berth does not know about is kept as evidence, never reused or deleted. */
  private moveAsideLeftover(dir: string): void {
    if (!existsSync(dir)) return;
    const aside = join(this.containersDir, '..', 'quarantine');
    mkdirSync(aside, { recursive: true });
    renameSync(dir, join(aside, `${dir.split('/').pop()}-${Date.now()}`));
  }

  async start(id: string): Promise<{ pid: number }> {
    const state = this.state(id);
    return this.spawn(id, state, INIT, state.spec);
  }

  async exec(id: string, execId: string, spec: ProcessSpec): Promise<{ pid: number }> {
    const state = this.state(id);
    // Checked synchronously before the spawn: no exec can start after init was reaped.
    if (state.initExited) throw new BerthError('invalid-state', `container ${id} has exited; cannot exec ${execId}`);
    const merged: ProcessSpec = {
      args: spec.args,
      env: { ...state.spec.env, ...spec.env },
      cwd: resolve(spec.cwd ?? state.spec.cwd ?? process.cwd()),
    };
    checkCwd(merged.cwd!);
    resolveExecutable(merged.args[0]!, merged.cwd!, { ...process.env, ...merged.env });
    return this.spawn(id, state, execId, merged);
  }

  private async spawn(id: string, state: ContainerState, processId: string, spec: ProcessSpec): Promise<{ pid: number }> {
    // Registered before the spawn: the exit report may arrive on the heels of the start report.
    const live: LiveProcess = { pid: 0, exited: false };
    state.processes.set(processId, live);
    try {
      live.pid = await this.shim.spawn(
        { dir: state.dir, processId, args: spec.args, env: { ...process.env, ...spec.env }, cwd: spec.cwd! },
        (exit) => {
          live.exited = true;
          if (processId === INIT) this.reapContainer(state);
          this.listener(id, processId, exitFrom(exit.code, exit.signal, exit.exitedAt));
        },
        this.startTimeoutMs,
      );
    } catch (err) {
      state.processes.delete(processId);
      throw new BerthError('runtime-error', `cannot start ${processId} of ${id}: ${(err as Error).message}`);
    }
    return { pid: live.pid };
  }

  /** Init is gone: nothing else of the container may live on (no orphan, no zombie). */
  private reapContainer(state: ContainerState): void {
    state.initExited = true;
    for (const proc of state.processes.values()) killGroup(proc.pid, 'SIGKILL');
  }

  async signal(id: string, processId: string, signal: ResolvedSignal): Promise<void> {
    const proc = this.state(id).processes.get(processId);
    if (!proc || proc.exited || !killGroup(proc.pid, signal.number)) {
      throw new BerthError('invalid-state', `process ${processId} of ${id} is not running`);
    }
  }

  /** Settles once every live process is really stopped, as `runc pause` waits for FROZEN. */
  async pause(id: string): Promise<void> {
    const live = [...this.state(id).processes.values()].filter((proc) => !proc.exited);
    for (const proc of live) killGroup(proc.pid, 'SIGSTOP');
    await Promise.all(live.map((proc) => untilStopped(proc, true)));
  }

  async resume(id: string): Promise<void> {
    const live = [...this.state(id).processes.values()].filter((proc) => !proc.exited);
    for (const proc of live) killGroup(proc.pid, 'SIGCONT');
    await Promise.all(live.map((proc) => untilStopped(proc, false)));
  }

  async delete(id: string): Promise<void> {
    const state = this.containers.get(id);
    if (state) for (const proc of state.processes.values()) killGroup(proc.pid, 'SIGKILL');
    rmSync(join(this.containersDir, id), { recursive: true, force: true });
    this.containers.delete(id);
  }

  async logs(id: string, processId: string): Promise<string> {
    const path = join(this.state(id).dir, `${processId}.log`);
    return readFile(path, 'utf8').catch(() => '');
  }

  async close(): Promise<void> {
    this.shim.close();
    this.containers.clear();
  }
}
