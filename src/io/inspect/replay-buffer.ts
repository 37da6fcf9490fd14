export interface ReplayLimits {
  /** Live actors kept for late joiners. */
  actors: number;
  /** Bytes of messages kept, all actors together. */
  bytes: number;
}

interface Entry {
  actor?: string;
  snapshot?: string;
}

const size = (entry: Entry): number => Buffer.byteLength(entry.actor ?? '') + Buffer.byteLength(entry.snapshot ?? '');

/**
 * One publisher's replay for late joiners: the registration and latest snapshot
 * of each live actor, bounded in count and bytes. Past a bound, what does not
 * fit is relayed live but not kept: a new actor is not replayed, a snapshot that
 * grew past the bound leaves the last one that fitted. The actors registered
 * first, the roots of their trees, stay; a stopped actor makes room.
 */
export class ReplayBuffer {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(private readonly limits: ReplayLimits) {}

  /** Keeps `text`, an actor's registration or latest snapshot, if the bounds allow. */
  keep(sessionId: string, kind: keyof Entry, text: string): void {
    const old = this.entries.get(sessionId);
    if (!old && (kind !== 'actor' || this.entries.size >= this.limits.actors)) return; // a snapshot needs its actor
    const entry = { ...old, [kind]: text };
    const bytes = this.bytes - (old ? size(old) : 0) + size(entry);
    if (bytes > this.limits.bytes) return;
    this.entries.set(sessionId, entry);
    this.bytes = bytes;
  }

  forget(sessionId: string): void {
    const old = this.entries.get(sessionId);
    if (!old) return;
    this.bytes -= size(old);
    this.entries.delete(sessionId);
  }

  /** Registrations first, so that every snapshot replayed belongs to an actor already known. */
  *messages(): Generator<string> {
    for (const { actor } of this.entries.values()) if (actor) yield actor;
    for (const { snapshot } of this.entries.values()) if (snapshot) yield snapshot;
  }
}
