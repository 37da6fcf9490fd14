import { readdirSync } from 'node:fs';
import { INIT, type ResolvedSignal } from '../validate.js';
import type { CheckpointOptions, ContainerSpec, ContainerStats, ExitInfo, LinuxResources, ProcessSpec } from '../types.js';
import type { StoredContainer, StoredProcess } from './journal/projection.js';
import type { LogFile } from './os/process-log.js';

/** What restore learned of one container from disk. */
export interface RestoredContainer {
  id: string;
  /** Processes that started while no supervisor ran (or before their start was journaled). */
  startedWhileDown: { processId: string; pid: number }[];
  /** Exits that happened while no supervisor ran, or that can never be learned (255, with a reason). */
  exits: { processId: string; exit: ExitInfo }[];
}

/**
 * The processes a restore looks at: those the registry knows, plus any whose
 * shim left its record (`<processId><recordSuffix>` in the container's dir)
 * before the start was journaled.
 */
export function processesToRestore(stored: StoredContainer, dir: string, recordSuffix: string): StoredProcess[] {
  const known = new Set(stored.processes.map((p) => p.id));
  const onDisk = readdirSync(dir)
    .filter((file) => file.endsWith(recordSuffix))
    .map((file) => file.slice(0, -recordSuffix.length))
    .filter((id) => !known.has(id));
  return [...stored.processes, ...onDisk.map((id) => ({ id, status: 'created' as const }))];
}

/**
 * Whether init's exit is journaled. Every exec's exit is journaled before it, so
 * an exec whose start was never journaled can then never be: whatever is left
 * of it (a request carried out after its supervisor died) is ended, not adopted.
 */
export function initExitJournaled(stored: StoredContainer): boolean {
  return stored.processes.some((p) => p.id === INIT && p.status === 'exited');
}

/**
 * The registry as a runtime's restore reads it: a container whose restart is
 * journaled has retired init's exited generation, so whatever init record it
 * has now is of the next one, started or not: init counts as created.
 */
export function restoreView(stored: StoredContainer): StoredContainer {
  if (stored.status !== 'restarting') return stored;
  return { ...stored, processes: stored.processes.map((p) => (p.id === INIT ? { id: INIT, status: 'created' } : p)) };
}

/** Execs first, init last: the order the kernel reaps them in, and the order they are published in. */
export function initLast(exits: RestoredContainer['exits']): RestoredContainer['exits'] {
  return exits.sort((a, b) => Number(a.processId === INIT) - Number(b.processId === INIT));
}

/** A process that runs: its pid and, where the runtime saw it, when it was exec'd. */
export interface StartedProcess {
  pid: number;
  startedAt?: Date;
}

export type ExitListener = (containerId: string, processId: string, exit: ExitInfo) => void;

/**
 * What the container machine needs from an OS runtime. Implementations never
 * call each other concurrently for one container: the machine serialises them.
 */
export interface Runtime {
  readonly name: string;
  /** Validates the spec and prepares the container's on-disk state; leaves nothing behind on failure. */
  create(id: string, spec: ContainerSpec): Promise<void>;
  /** Starts init; resolves once it runs. */
  start(id: string): Promise<StartedProcess>;
  exec(id: string, execId: string, spec: ProcessSpec): Promise<StartedProcess>;
  signal(id: string, processId: string, signal: ResolvedSignal): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** Changes the container's resource limits (`runc update`). */
  update(id: string, resources: LinuxResources): Promise<void>;
  stats(id: string): Promise<ContainerStats>;
  /** The pids of every process in the container now (its cgroup's, or its processes and their descendants); read-only. */
  pids(id: string): Promise<number[]>;
  /** Checkpoints the container with CRIU (`runc checkpoint`); returns where the images went. */
  checkpoint(id: string, options: CheckpointOptions): Promise<{ imagePath: string }>;
  /**
   * Forgets init's exited generation before a restart is journaled (its record,
   * runc's stopped container), so that no restore can take it for the next
   * generation. Idempotent.
   */
  retireInit(id: string): Promise<void>;
  /** Starts init again, as a new generation, in the container (its dir, logs and execs' records kept); resolves once it runs. */
  restart(id: string): Promise<StartedProcess>;
  /** Removes everything the container left; its processes must have exited. */
  delete(id: string): Promise<void>;
  /**
   * Re-adopts a container the registry knows (after a restart or a crash): its
   * running processes are watched again, and what happened meanwhile is returned.
   */
  restore(stored: StoredContainer): RestoredContainer;
  /**
   * Before restore: kills and removes what the runtime runs for containers the
   * registry does not know (a create the crash cut short), so their ids can be reused.
   */
  reconcile?(known: ReadonlySet<string>): Promise<void>;
  /**
   * What a container directory says the container runs, for rebuilding a lost
   * registry; undefined if the directory is not one of this runtime's. Its
   * processes are then found by `restore`, from their records beside it.
   */
  recoverSpec(dir: string): ContainerSpec | undefined;
  /** Where one process's stdout and stderr are captured, and in which format. */
  logFile(id: string, processId: string): LogFile;
  /** Registers the one listener told about every process exit, exactly once per process. */
  onExit(listener: ExitListener): void;
  /** Registers the listener told when the kernel's OOM killer acts in a container (before that kill's exit). */
  onOom(listener: (containerId: string) => void): void;
  close(): Promise<void>;
}
