import type { ErrorData } from '../errors.js';
import type { CheckpointOptions, ContainerStatus, LinuxResources, ProcessSpec } from '../types.js';
import type { ResolvedSignal } from '../validate.js';

/** Runtime operations a container performs one at a time, in arrival order. */
export type ContainerRequest =
  | { kind: 'create'; requestId: number }
  | { kind: 'start'; requestId: number }
  | { kind: 'exec'; requestId: number; execId: string; spec: ProcessSpec }
  /** With `reason`, a kill berth makes itself (a time limit): the exit it causes carries that reason. */
  | { kind: 'signal'; requestId: number; processId: string; signal: ResolvedSignal; reason?: KillReason }
  | { kind: 'pause'; requestId: number }
  | { kind: 'resume'; requestId: number }
  | { kind: 'delete'; requestId: number }
  | { kind: 'update'; requestId: number; resources: LinuxResources }
  | { kind: 'stats'; requestId: number }
  | { kind: 'checkpoint'; requestId: number; options: CheckpointOptions }
  /** Internal: init has been reaped, so the execs still running must die. */
  | { kind: 'kill-execs'; requestId?: undefined; execIds: string[] }
  /** Internal, before a restart is journaled: the runtime forgets init's exited generation. */
  | { kind: 'retire'; requestId?: undefined }
  /** Internal: the restart policy starts init again. */
  | { kind: 'restart'; requestId?: undefined };

export type RequestKind = ContainerRequest['kind'];

/** Why berth itself killed a process: a `run` or `runExec` time limit ran out. */
export type KillReason = 'timeout';

/** What a container answers to the API call that asked for a request. */
export type Settlement = { requestId: number; value?: unknown; error?: undefined } | { requestId: number; error: ErrorData };

export interface ProcessRecord {
  status: 'created' | 'running' | 'exited';
  pid?: number;
  exit?: import('../types.js').ExitInfo;
  /** An exit learned before the start was journaled; published right after it. */
  pendingExit?: import('../types.js').ExitInfo;
  /** A kill with a reason is under way: an exit by its signal is published with that reason. */
  killedFor?: { reason: KillReason; status: number };
}

/**
 * Whether a queued request may run in the container's current state; checked when
 * the request reaches the head of the queue, not when it arrived, because the
 * state may have changed in between.
 */
export function refusal(
  id: string,
  status: ContainerStatus,
  processes: Record<string, ProcessRecord>,
  request: ContainerRequest,
): ErrorData | undefined {
  const invalid = (message: string): ErrorData => ({ code: 'invalid-state', message });
  switch (request.kind) {
    case 'create':
    case 'kill-execs':
    case 'retire':
    case 'restart':
      return undefined;
    case 'start':
      return status === 'created' ? undefined : invalid(`container ${id} is ${status}; only a created container can start`);
    case 'exec':
      if (status !== 'running') return invalid(`container ${id} is ${status}; exec needs a running container`);
      if (Object.hasOwn(processes, request.execId)) {
        return { code: 'already-exists', message: `exec ${request.execId} already exists in container ${id}` };
      }
      return undefined;
    case 'signal': {
      const proc = Object.hasOwn(processes, request.processId) ? processes[request.processId] : undefined;
      if (!proc) return { code: 'not-found', message: `process ${request.processId} not found in container ${id}` };
      return proc.status === 'running' ? undefined : invalid(`process ${request.processId} of ${id} is ${proc.status}`);
    }
    case 'pause':
      return status === 'running' ? undefined : invalid(`container ${id} is ${status}; only a running container can pause`);
    case 'resume':
      return status === 'paused' ? undefined : invalid(`container ${id} is ${status}; only a paused container can resume`);
    case 'update':
    case 'stats':
    case 'checkpoint':
      return status === 'running' || status === 'paused'
        ? undefined
        : invalid(`container ${id} is ${status}; ${request.kind} needs a running or paused container`);
    case 'delete':
      return status === 'created' || status === 'exited' || status === 'restarting'
        ? undefined
        : invalid(`container ${id} is ${status}; stop it first or delete it with { force: true }`);
  }
}
