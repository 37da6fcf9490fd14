import { isBerthError } from './errors.js';
import type { KillReason } from './machines/requests.js';
import type { ContainerInfo, CreateOptions, ExecOptions, ExitInfo, RunResult } from './types.js';
import { INIT } from './validate.js';

/**
 * Calls that carry a process to its exit — stop, run, runExec — built from the
 * supervisor's own calls, so each step is journaled and checked as usual.
 */
export interface Calls {
  create(options: CreateOptions): Promise<void>;
  start(id: string): Promise<{ pid: number }>;
  exec(id: string, options: ExecOptions): Promise<{ pid: number }>;
  signal(id: string, processId: string, signal: string | number): Promise<void>;
  wait(id: string, processId?: string): Promise<ExitInfo>;
  delete(id: string): Promise<void>;
  get(id: string): ContainerInfo;
  /** SIGKILL, with a reason the exit it causes will carry. */
  kill(id: string, processId: string, reason: KillReason): Promise<void>;
  /** A cleanup that failed after the call had already failed for another reason. */
  cleanupFailed(err: unknown, id: string): void;
}

const TIMED_OUT = Symbol('timed out');

/** The exit, or TIMED_OUT if `ms` pass first (never, without `ms`). */
function within(exited: Promise<ExitInfo>, ms: number | undefined): Promise<ExitInfo | typeof TIMED_OUT> {
  if (ms === undefined) return exited;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((done) => (timer = setTimeout(() => done(TIMED_OUT), ms)));
  return Promise.race([exited, timeout]).finally(() => clearTimeout(timer));
}

/** A process that exited meanwhile cannot be signalled any more: that is what we wanted. */
const goneAlready = (err: unknown): void => {
  if (!isBerthError(err, 'invalid-state')) throw err;
};

/** Waits for a process's exit; past `timeoutMs` it is killed with `reason`, and its exit says so. */
async function exitWithin(calls: Calls, id: string, processId: string, timeoutMs: number | undefined, reason: KillReason): Promise<ExitInfo> {
  const exited = calls.wait(id, processId);
  if ((await within(exited, timeoutMs)) === TIMED_OUT) await calls.kill(id, processId, reason).catch(goneAlready);
  return exited;
}

/** `signal` to init, then SIGKILL to the whole container if init has not exited within `timeoutMs`. */
export async function stop(calls: Calls, id: string, signal: string | number, timeoutMs: number): Promise<ExitInfo> {
  try {
    await calls.signal(id, INIT, signal);
  } catch (err) {
    // Stopping a container that has already stopped answers with how it ended.
    const exit = isBerthError(err, 'invalid-state') ? calls.get(id).processes.find((p) => p.id === INIT)?.exit : undefined;
    if (exit) return calls.wait(id);
    throw err;
  }
  const exited = calls.wait(id);
  if ((await within(exited, timeoutMs)) === TIMED_OUT) await calls.signal(id, INIT, 'SIGKILL').catch(goneAlready);
  return exited;
}

/**
 * create, start, wait for the exit (killing the container past `timeoutMs`) and,
 * with `remove`, delete. A container whose start fails is deleted whatever
 * `remove` says: the run never happened, and nothing of it is left.
 */
export async function run(calls: Calls, options: CreateOptions, timeoutMs: number | undefined, remove: boolean): Promise<RunResult> {
  const { id } = options;
  await calls.create(options);
  let pid: number;
  try {
    ({ pid } = await calls.start(id));
  } catch (err) {
    await calls.delete(id).catch((cleanup: unknown) => calls.cleanupFailed(cleanup, id));
    throw err;
  }
  const exit = await exitWithin(calls, id, INIT, timeoutMs, 'timeout');
  if (remove) await calls.delete(id);
  return { pid, exit };
}

/** exec, then wait for its exit, killing it past `timeoutMs`. */
export async function runExec(calls: Calls, id: string, options: ExecOptions, timeoutMs: number | undefined): Promise<RunResult> {
  const { pid } = await calls.exec(id, options);
  return { pid, exit: await exitWithin(calls, id, options.execId, timeoutMs, 'timeout') };
}
