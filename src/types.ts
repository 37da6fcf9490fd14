/** Public data types of berth's API. Plain data only: safe to log, store and send. */

export type ContainerStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopping' | 'exited' | 'deleted';
export type ProcessStatus = 'created' | 'running' | 'exited' | 'deleted';

export type EventType =
  | 'create'
  | 'start-container'
  | 'start-process'
  | 'exit'
  | 'pause'
  | 'resume'
  | 'oom'
  | 'delete'
  /** A container directory restore could not load, moved aside (with `reason`) rather than deleted. */
  | 'quarantine';

export const EVENT_TYPES: readonly EventType[] = [
  'create',
  'start-container',
  'start-process',
  'exit',
  'pause',
  'resume',
  'oom',
  'delete',
  'quarantine',
];

/** What a process is: the init of a container, or an exec inside it. */
export interface ProcessSpec {
  args: string[];
  /** Added to the supervisor's own environment. */
  env?: Record<string, string>;
  /** Absolute or relative to the supervisor's cwd; must exist. */
  cwd?: string;
}

/** An OCI bundle: a directory with config.json and its rootfs (runc runtime). */
export interface BundleSpec {
  bundle: string;
}

/** What a container runs: a process (process runtime) or an OCI bundle (runc runtime). */
export type ContainerSpec = ProcessSpec | BundleSpec;

export interface CreateOptions {
  id: string;
  /** process runtime: the init process. */
  process?: ProcessSpec;
  /** runc runtime: the OCI bundle directory; init is its config.json's process. */
  bundle?: string;
  labels?: Record<string, string>;
}

export interface ExecOptions extends Partial<ProcessSpec> {
  execId: string;
  args: string[];
}

/**
 * How a process ended. `status` is the exit code, 128+N for a process killed by
 * signal N, or 255 when berth could not learn it (then `reason` says why).
 */
export interface ExitInfo {
  status: number;
  signal?: string;
  reason?: string;
  exitedAt: Date;
}

/** One row of the journal, as subscribers see it: `seq` orders publication, `time` is when it happened. */
export interface BerthEvent extends Omit<JournalEntry, 'time'> {
  seq: number;
  time: Date;
}

export interface ProcessInfo {
  id: string;
  pid?: number;
  status: ProcessStatus;
  exitStatus?: number;
  exit?: ExitInfo;
}

export interface ContainerInfo {
  id: string;
  status: ContainerStatus;
  pid?: number;
  labels: Record<string, string>;
  createdAt: Date;
  processes: ProcessInfo[];
}

export interface EventsQuery {
  /** Replay rows with a seq strictly greater than this one. */
  after?: number;
  /** Replay rows recorded at or after this time. */
  since?: Date;
  /** Only this container's events. */
  id?: string;
  /** Only these event types. */
  types?: EventType[];
  /** Complete after the replay instead of continuing live. */
  storedOnly?: boolean;
}

/** A journal row before the journal gives it a seq (and, unless set, a time). */
export interface JournalEntry {
  type: EventType;
  id: string;
  processId?: string;
  from?: string;
  to?: string;
  pid?: number;
  status?: number;
  signal?: string;
  reason?: string;
  /** Defaults to now; restore passes the real exit time read from disk. */
  time?: Date;
}

/** What `create` records beyond its journal row, so the container can be restored later. */
export interface ContainerDetail {
  spec: ContainerSpec;
  labels: Record<string, string>;
  createdAt: Date;
}

/** OCI linux.resources, as `runc update` takes them (the fields berth users reach for; others pass through). */
export interface LinuxResources {
  memory?: { limit?: number; reservation?: number; swap?: number; kernel?: number };
  cpu?: { shares?: number; quota?: number; period?: number; realtimeRuntime?: number; realtimePeriod?: number; cpus?: string; mems?: string };
  pids?: { limit: number };
  blockIO?: { weight?: number };
  [other: string]: unknown;
}

/** A container's resource usage, from `runc events --stats`. */
export interface ContainerStats {
  cpu: { totalNs: number; userNs: number; kernelNs: number; perCpuNs: number[] };
  memory: { usage: number; limit: number; max: number; failcnt: number };
  pids: { current: number; limit: number };
  /** The whole runc stats document, for fields not lifted above. */
  raw: unknown;
}

export interface CheckpointOptions {
  /** Names the checkpoint; its images go to <stateDir>/checkpoints/<id>/<name> unless imagePath is given. */
  name: string;
  imagePath?: string;
  /** Keep the container running after the checkpoint (default: it stops, as runc does). */
  leaveRunning?: boolean;
  tcpEstablished?: boolean;
  unixSockets?: boolean;
  shellJob?: boolean;
  emptyNamespaces?: string[];
}

export interface StopOptions {
  /** Sent to init first. Default 'SIGTERM'. */
  signal?: string | number;
  /** How long init has to exit before the whole container is killed with SIGKILL. Default 10,000. */
  timeoutMs?: number;
}

export interface RunOptions extends CreateOptions {
  /** From the start on: when it runs out, the container is killed and its exit says `reason: 'timeout'`. */
  timeoutMs?: number;
  /** Delete the container once it has exited (also after a timeout). */
  remove?: boolean;
}

export interface RunExecOptions extends ExecOptions {
  /** When it runs out, the exec is killed and its exit says `reason: 'timeout'`. */
  timeoutMs?: number;
}

/** How a process `run` or `runExec` started ended. */
export interface RunResult {
  pid: number;
  exit: ExitInfo;
}
