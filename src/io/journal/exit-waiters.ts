import type { BerthEvent } from '../../types.js';
import { INIT } from '../../validate.js';
import type { Journal } from './journal.js';

type Waiter = (row: BerthEvent) => void;

/**
 * Calls waiting for a process's exit, found by container and process id. One
 * commit hook for all of them, so each committed batch costs its own length
 * rather than its length times the number of waiters: closing a supervisor
 * with thousands of containers waits for thousands of exits at once.
 *
 * A waiter gets the `exit` row of its process, or, waiting for `init`, a
 * `restart` row that ends its container's policy (a restart that failed has no
 * new exit to wait for).
 */
export class ExitWaiters {
  private readonly waiting = new Map<string, Set<Waiter>>();

  constructor(journal: Journal) {
    journal.onCommit((rows) => {
      for (const row of rows) {
        if (row.type !== 'exit' && !(row.type === 'restart' && row.to === 'exited')) continue;
        const waiters = this.waiting.get(key(row.id, row.processId ?? INIT));
        if (waiters) for (const waiter of [...waiters]) waiter(row);
      }
    });
  }

  /** Calls `waiter` with each such row until the returned function is called. */
  add(id: string, processId: string, waiter: Waiter): () => void {
    const k = key(id, processId);
    let waiters = this.waiting.get(k);
    if (!waiters) this.waiting.set(k, (waiters = new Set()));
    waiters.add(waiter);
    return () => {
      waiters.delete(waiter);
      if (waiters.size === 0 && this.waiting.get(k) === waiters) this.waiting.delete(k);
    };
  }
}

const key = (id: string, processId: string) => `${id}\0${processId}`;
