import type { ExitInfo } from '../../types.js';
import { signalName } from '../../validate.js';

/** Status for an exit: the code, or 128+N for signal N, or 255 with a reason when neither is known. */
export function exitFrom(code: number | null | undefined, signal: number | null | undefined, exitedAt = new Date()): ExitInfo {
  if (typeof code === 'number') return { status: code, exitedAt };
  if (signal) {
    const name = signalName(signal);
    return name ? { status: 128 + signal, signal: name, exitedAt } : { status: 128 + signal, exitedAt };
  }
  return { status: 255, reason: 'unknown', exitedAt };
}

/** A process whose end nobody could record: its monitor died first ('shim-lost'), or its state dir vanished ('state-lost'). */
export const lostExit = (reason: 'shim-lost' | 'state-lost'): ExitInfo => ({ status: 255, reason, exitedAt: new Date() });
