import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { BerthError } from '../../errors.js';
import { RLIM_INFINITY, type ProcessRlimit, type ProcessUser } from '../../types.js';
import { REBUILD_HINT } from './shim-check.js';
import { killConfirmed, killGroup } from '../os/os-process.js';

/** Where `npm run build` puts the compiled shim: <package>/dist/berth-shim, from src/io or dist/io alike. */
export const DEFAULT_SHIM_PATH = fileURLToPath(new URL('../../../dist/berth-shim', import.meta.url));

export interface SpawnRequest {
  /** The container's state dir: the shim writes <proc>.record and <proc>.log there. */
  dir: string;
  processId: string;
  /** The start attempt whose reserved record the monitor may write (see shim-records.ts). */
  generation: string;
  /** An init: when it ends, its monitor kills everything else it reaps. */
  init: boolean;
  args: string[];
  env: Record<string, string | undefined>;
  cwd: string;
  /** Set in the forked process before it execs; the monitor keeps its own (root's) identity. */
  user?: ProcessUser;
  rlimits?: ProcessRlimit[];
}

/** The request's user field: "<uid> <gid> <additional gids...>", or empty for the shim's own identity. */
const userField = (user: ProcessUser | undefined) => (user ? [user.uid, user.gid, ...(user.additionalGids ?? [])].join(' ') : '');

/** The request's rlimits field: "<type> <soft> <hard> ...", infinity spelled `unlimited`. */
const rlimitsField = (rlimits: ProcessRlimit[] = []) =>
  rlimits.flatMap(({ type, soft, hard }) => [type, ...[soft, hard].map((limit) => (limit === RLIM_INFINITY ? 'unlimited' : String(limit)))]).join(' ');

/** What the shim reports when a process ends: exit code, or the signal that killed it. */
export interface ShimExit {
  code: number | null;
  signal: number;
  exitedAt: Date;
}

/** A running process and the monitor that reaps it. */
export interface Started {
  pid: number;
  startTime: number;
  monitorPid: number;
  monitorStartTime: number;
  /** When the process was exec'd, as the monitor saw it. */
  startedAt: Date;
}

interface Inflight {
  started: (started: Started) => void;
  failed: (error: Error) => void;
  exited: (exit: ShimExit) => void;
  /** C requests: the launched program's pid, and its first sync-pipe message. */
  launched?: (pid: number) => void;
  said?: (message: string) => void;
}

const ERRNO_NAMES = Object.fromEntries(Object.entries(osConstants.errno).map(([name, no]) => [no, name]));

/**
 * The supervisor's end of berth-shim's zygote (see berth-shim.c): sends spawn
 * requests, and turns the shim's report lines into started / failed / exited
 * callbacks. The zygote never keeps Node alive, and exits when its stdin closes.
 */
export class ShimClient {
  private zygote: ChildProcessByStdio<Writable, Readable, null> | undefined;
  private nextRequest = 1;
  private readonly inflight = new Map<string, Inflight>();
  /** Requests whose process runs: only their exit is still to come. */
  private readonly started = new Set<string>();

  constructor(private readonly shimPath: string = DEFAULT_SHIM_PATH) {}

  private start(): ChildProcessByStdio<Writable, Readable, null> {
    if (!existsSync(this.shimPath)) {
      throw new BerthError('runtime-error', `berth-shim not found at ${this.shimPath}: ${REBUILD_HINT}`);
    }
    // Its own session: a Ctrl-C aimed at the supervisor's terminal must not reach the monitors.
    // No inherited stderr: monitors outlive us, and must not hold a pipe of whoever started us open.
    const zygote = spawn(this.shimPath, ['zygote'], { stdio: ['pipe', 'pipe', 'ignore'], detached: true });
    zygote.unref();
    (zygote.stdout as Readable & { unref?: () => void }).unref?.();
    (zygote.stdin as Writable & { unref?: () => void }).unref?.();
    zygote.stdin.on('error', () => {}); // a dead zygote is reported through its exit below
    createInterface({ input: zygote.stdout }).on('line', (line) => this.report(line));
    zygote.once('exit', (code, signal) => this.lost(zygote, `berth-shim exited (${signal ?? code}) before starting the process`));
    // It could not be started at all (EACCES, EAGAIN under RLIMIT_NPROC): the next request tries again.
    zygote.on('error', (err) => this.lost(zygote, `cannot run berth-shim: ${err.message}`));
    return zygote;
  }

  /** The zygote is gone: requests it had not answered never will be; monitors it had forked still report. */
  private lost(zygote: ChildProcessByStdio<Writable, Readable, null>, why: string): void {
    if (this.zygote === zygote) this.zygote = undefined;
    for (const [id, inflight] of this.inflight) {
      if (!this.started.has(id)) {
        this.inflight.delete(id);
        inflight.failed(new BerthError('runtime-error', why));
      }
    }
  }

  private report(line: string): void {
    const [kind, request, ...rest] = line.split(' ');
    const inflight = this.inflight.get(request ?? '');
    if (!inflight) return;
    if (kind === 'P') inflight.launched?.(Number(rest[0]));
    else if (kind === 'C') {
      this.inflight.delete(request!);
      inflight.said?.(rest.join(' '));
    } else if (kind === 'S') {
      this.started.add(request!);
      const [pid, monitorPid, ms, startTime, monitorStartTime] = rest.map(Number) as [number, number, number, number, number];
      inflight.started({ pid, startTime, monitorPid, monitorStartTime, startedAt: new Date(ms) });
    }
    else if (kind === 'F') {
      this.inflight.delete(request!);
      const errno = Number(rest[0]);
      inflight.failed(Object.assign(new Error(rest.slice(1).join(' ')), { code: ERRNO_NAMES[errno] ?? errno }));
    } else if (kind === 'X') {
      this.inflight.delete(request!);
      this.started.delete(request!);
      const code = Number(rest[0]);
      inflight.exited({ code: code < 0 ? null : code, signal: Number(rest[1]), exitedAt: new Date(Number(rest[2])) });
    }
  }

  private send(kind: 'S' | 'I' | 'C', id: string, request: SpawnRequest): void {
    const env = Object.entries(request.env)
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .map(([key, value]) => `${key}=${value}`);
    const fields = [
      ...[kind, id, request.dir, request.processId, request.generation, request.cwd],
      ...[String(request.args.length), ...request.args, String(env.length), ...env],
      ...[userField(request.user), rlimitsField(request.rlimits)],
    ];
    if (fields.some((f) => f.includes('\0'))) {
      throw new BerthError('invalid-spec', 'arguments and environment may not contain NUL bytes');
    }
    this.zygote ??= this.start();
    this.zygote.stdin.write(fields.map((f) => `${f}\0`).join(''));
  }

  /**
   * Launches a program that reports on a sync pipe (`_OCI_SYNCPIPE=3`, as conmon
   * does) through a zygote helper that keeps the pipe open for the program's whole
   * life, in `cwd`; resolves with the program's first message. A program that says
   * nothing within `timeoutMs` is killed.
   */
  launchSynced(args: string[], env: Record<string, string | undefined>, cwd: string, timeoutMs: number): Promise<string> {
    const id = String(this.nextRequest++);
    return new Promise<string>((resolve, reject) => {
      let pid = 0;
      const timer = setTimeout(() => {
        this.inflight.delete(id);
        killGroup(pid, 'SIGKILL');
        reject(new Error(`did not report within ${timeoutMs} ms and was killed`));
      }, timeoutMs);
      const settle = (fn: () => void) => {
        clearTimeout(timer);
        fn();
      };
      this.inflight.set(id, {
        started: () => {},
        exited: () => {},
        launched: (launched) => (pid = launched),
        said: (message) => settle(() => resolve(message)),
        failed: (error) => settle(() => reject(error)),
      });
      try {
        this.send('C', id, { dir: '/', processId: 'sync', generation: '-', init: false, args, env, cwd });
      } catch (err) {
        this.inflight.delete(id);
        settle(() => reject(err as Error));
      }
    });
  }

  /** Starts a process through a fresh monitor; resolves once it runs. */
  spawn(request: SpawnRequest, onExit: (exit: ShimExit) => void, timeoutMs: number): Promise<Started> {
    const id = String(this.nextRequest++);
    return new Promise<Started>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Too late for the caller; should it start after all, it must not run unsupervised:
        // its monitor, just heard from and confirmed, ends it and all it started.
        const end = ({ monitorPid, monitorStartTime }: Started) => killConfirmed(monitorPid, monitorStartTime, 'SIGTERM');
        this.inflight.set(id, { started: end, failed: () => {}, exited: () => {} });
        reject(new Error(`did not start within ${timeoutMs} ms`));
      }, timeoutMs);
      this.inflight.set(id, {
        started: (started) => {
          clearTimeout(timer);
          resolve(started);
        },
        failed: (error) => {
          clearTimeout(timer);
          reject(error);
        },
        exited: onExit,
      });
      try {
        this.send(request.init ? 'I' : 'S', id, request);
      } catch (err) {
        clearTimeout(timer);
        this.inflight.delete(id);
        reject(err as Error);
      }
    });
  }

  /**
   * Ends the zygote; monitors already started live on until their processes end.
   * Their reports are no longer anyone's business here: the records they write
   * are what the next supervisor of this state dir reads.
   */
  close(): void {
    this.zygote?.stdin.end();
    this.zygote = undefined;
    this.inflight.clear();
    this.started.clear();
  }
}
