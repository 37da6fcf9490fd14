/** Public data types of berth's API. Plain data only: safe to log, store and send. */

export type ContainerStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopping' | 'restarting' | 'exited' | 'deleted';
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
  /** init exited and its restart policy starts it again: `attempt` (1, 2, ...) after `delayMs`; or, `to: 'exited'`, the policy ended (`reason`). */
  | 'restart'
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
  'restart',
  'quarantine',
];

/** What a process is: the init of a container, or an exec inside it. */
export interface ProcessSpec {
  args: string[];
  /**
   * The process's whole environment (with runc's default PATH when it names
   * none): nothing of the supervisor's own unless `inheritEnv`.
   */
  env?: Record<string, string>;
  /** Absolute or relative to the supervisor's cwd; must exist. */
  cwd?: string;
  /** Who the process runs as (process runtime: only under a root supervisor). An exec defaults to its container's. */
  user?: ProcessUser;
  /** Resource limits set before the program starts. An exec defaults to its container's. */
  rlimits?: ProcessRlimit[];
  /**
   * Process runtime: start from the supervisor's environment, with `env` on top.
   * Default false; an exec defaults to its container's choice.
   */
  inheritEnv?: boolean;
}

/** OCI's `process.user`: the ids a process runs as; no supplementary groups unless `additionalGids` names them. */
export interface ProcessUser {
  uid: number;
  gid: number;
  additionalGids?: number[];
}

/** The kernel's resource limits, by OCI's names (`setrlimit(2)`). */
export const RLIMIT_TYPES = [
  'RLIMIT_AS',
  'RLIMIT_CORE',
  'RLIMIT_CPU',
  'RLIMIT_DATA',
  'RLIMIT_FSIZE',
  'RLIMIT_LOCKS',
  'RLIMIT_MEMLOCK',
  'RLIMIT_MSGQUEUE',
  'RLIMIT_NICE',
  'RLIMIT_NOFILE',
  'RLIMIT_NPROC',
  'RLIMIT_RSS',
  'RLIMIT_RTPRIO',
  'RLIMIT_RTTIME',
  'RLIMIT_SIGPENDING',
  'RLIMIT_STACK',
] as const;
export type RlimitType = (typeof RLIMIT_TYPES)[number];

/**
 * "Unlimited" (the kernel's RLIM_INFINITY, 2^64 - 1). OCI's config.json writes it
 * as 18446744073709551615, which a JavaScript number holds as 2^64; finite limits
 * must be safe integers (up to 2^53 - 1), so no limit is silently rounded.
 */
export const RLIM_INFINITY = 2 ** 64;

/** OCI's `process.rlimits` entry: soft <= hard, each a safe integer or RLIM_INFINITY. */
export interface ProcessRlimit {
  type: RlimitType;
  soft: number;
  hard: number;
}

/** An OCI bundle: a directory with config.json and its rootfs (runc runtime). */
export interface BundleSpec {
  bundle: string;
  /** Changes to config.json's process, made in berth's copy of it (as `ctr run` does). */
  process?: BundleProcess;
}

/**
 * What create may change of a bundle's process: `args` replace its args, `env`
 * entries are added to its env (replacing those of the same name), `cwd` (a path
 * inside the container) replaces its cwd.
 */
export type BundleProcess = Partial<Pick<ProcessSpec, 'args' | 'env' | 'cwd'>>;

/**
 * Bounds on a process's captured output: once its log holds `maxBytes`, the log
 * is rotated (renamed, and a fresh one begun), and the `keep` newest rotated files
 * are kept besides the current one, so a log takes at most (keep + 1) × maxBytes.
 */
export interface LogLimits {
  maxBytes: number;
  keep: number;
}

/** What a container runs: a process (process runtime) or an OCI bundle (runc runtime); `logs` bounds the logs of init and every exec, `resources` limits it. */
export type ContainerSpec = (ProcessSpec | BundleSpec) & { logs?: LogLimits; resources?: LinuxResources };

export interface CreateOptions {
  id: string;
  /** process runtime: the init process. With `bundle`: changes to config.json's process (BundleProcess). */
  process?: ProcessSpec | BundleProcess;
  /** runc runtime: the OCI bundle directory; init is its config.json's process, changed by `process` (args, env, cwd) if given. */
  bundle?: string;
  labels?: Record<string, string>;
  /** Limits (OCI linux.resources): a cgroup of its own on the process runtime, added to config.json's on runc. */
  resources?: LinuxResources;
  /** Bounds the logs of init and every exec (default: the supervisor's `logs`, else unbounded). */
  logs?: LogLimits;
  /** What happens when init exits: like Docker's and PM2's restart policies. Default `{ policy: 'no' }`. */
  restart?: RestartOptions;
}

export type RestartPolicyName = 'no' | 'on-failure' | 'always' | 'unless-stopped';

/** A restart policy as `create` takes it. */
export interface RestartOptions {
  /**
   * 'no': never. 'on-failure': when init exits with a status other than 0.
   * 'always' and 'unless-stopped': whatever the status. A user's signal to init,
   * or `delete`, ends the policy; 'always' starts again when the supervisor is
   * next opened (as Docker's does when its daemon starts), 'unless-stopped' does not.
   */
  policy: RestartPolicyName;
  /** At most this many restarts in the container's life (1 to 2^31-1); unlimited if omitted. */
  maxRetries?: number;
  /** The wait before a restart: `initial` (default 100), doubling up to `max` (default 60,000); back to `initial` once init has run 10 s. */
  backoffMs?: { initial?: number; max?: number };
}

/** A restart policy with its defaults filled in, as the journal keeps it. */
export interface RestartPolicy {
  policy: Exclude<RestartPolicyName, 'no'>;
  maxRetries?: number;
  backoffMs: { initial: number; max: number };
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
  /** With a restart policy: how often init has been restarted so far. */
  restartCount?: number;
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
  /** `restart` rows: which restart this is (1 for the first). */
  attempt?: number;
  /** `restart` rows: how long the supervisor waits before it starts init again. */
  delayMs?: number;
  /** Defaults to now; restore passes the real exit time read from disk. */
  time?: Date;
}

/** What `create` records beyond its journal row, so the container can be restored later. */
export interface ContainerDetail {
  spec: ContainerSpec;
  labels: Record<string, string>;
  createdAt: Date;
  restart?: RestartPolicy;
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
  /** How long `runc checkpoint` (CRIU dumping the container's memory) may take before it is killed. Default 10 min. */
  timeoutMs?: number;
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
