import type { ExitInfo, RestartPolicy } from '../types.js';

/** Docker's figures: the first wait, and the longest the doubling may reach. */
export const DEFAULT_BACKOFF_MS = { initial: 100, max: 60_000 };

/**
 * How long init must have run for its exit to count as a fresh failure, not the
 * next of a crash loop: the backoff then starts again from `initial` (Docker's 10 s).
 */
export const BACKOFF_RESET_MS = 10_000;

/** Where a container's restart policy stands; kept in the journal's projection, so it survives a crash. */
export interface RestartState {
  /** Restarts so far (the attempt number of the last `restart` row). */
  attempts: number;
  /** The wait before the last restart. */
  lastDelayMs?: number;
  /** When the current (or last) generation of init started. */
  startedAt?: Date;
  /** The user signalled init, or a restart failed: no restart until the policy says otherwise on the next open. */
  ended: boolean;
  /** The wait of the restart pending now (what is left of it, after a restore). */
  pendingDelayMs?: number;
}

export const NO_RESTARTS: RestartState = { attempts: 0, ended: false };

/**
 * Whether init's exit is followed by a restart. `onOpen`: the exit was journaled
 * before this supervisor opened the state dir without a restart following it, and
 * the policy is asked again, as Docker asks it when its daemon starts: 'always'
 * restarts even a container the user stopped, the others respect the stop.
 */
export function restartDue(policy: RestartPolicy | undefined, state: RestartState, exit: ExitInfo | undefined, onOpen = false): boolean {
  if (!policy || !exit) return false;
  if (policy.maxRetries !== undefined && state.attempts >= policy.maxRetries) return false;
  if (state.ended && !(onOpen && policy.policy === 'always')) return false;
  return policy.policy !== 'on-failure' || exit.status !== 0;
}

/** The wait before the next restart: doubled from the last one up to `max`, or `initial` again after a long enough run. */
export function nextDelay(policy: RestartPolicy, state: RestartState, exit: ExitInfo): number {
  const { initial, max } = policy.backoffMs;
  const ranFor = state.startedAt ? exit.exitedAt.getTime() - state.startedAt.getTime() : 0;
  if (state.lastDelayMs === undefined || ranFor >= BACKOFF_RESET_MS) return initial;
  return Math.min(max, state.lastDelayMs * 2);
}
