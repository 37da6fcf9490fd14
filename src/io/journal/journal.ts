import Database from 'better-sqlite3';
import type { BerthEvent, ContainerDetail, EventType, JournalEntry } from '../../types.js';
import { Projection, type StoredContainer } from './projection.js';

export interface ReplayFilter {
  after?: number;
  since?: Date;
  id?: string;
  types?: readonly EventType[];
}

interface Row {
  seq: number;
  ts: number;
  type: string;
  container_id: string;
  process_id: string | null;
  from_state: string | null;
  to_state: string | null;
  pid: number | null;
  status: number | null;
  signal: string | null;
  reason: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  ts           INTEGER NOT NULL,
  type         TEXT    NOT NULL,
  container_id TEXT    NOT NULL,
  process_id   TEXT,
  from_state   TEXT,
  to_state     TEXT,
  pid          INTEGER,
  status       INTEGER,
  signal       TEXT,
  reason       TEXT
);
CREATE INDEX IF NOT EXISTS events_by_container ON events (container_id, seq);
CREATE INDEX IF NOT EXISTS events_by_time ON events (ts);
`;

function toEvent(row: Row): BerthEvent {
  const event: BerthEvent = { seq: row.seq, time: new Date(row.ts), type: row.type as EventType, id: row.container_id };
  if (row.process_id !== null) event.processId = row.process_id;
  if (row.from_state !== null) event.from = row.from_state;
  if (row.to_state !== null) event.to = row.to_state;
  if (row.pid !== null) event.pid = row.pid;
  if (row.status !== null) event.status = row.status;
  if (row.signal !== null) event.signal = row.signal;
  if (row.reason !== null) event.reason = row.reason;
  return event;
}

/**
 * The event table. Appends are grouped into one transaction per turn of the event
 * loop (group commit): a burst of transitions costs one fsync-free WAL commit, and
 * nothing is announced — no listener called, no promise settled — before the
 * commit that makes it durable has happened.
 */
export class Journal {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly prune: Database.Statement;
  private readonly projection: Projection;
  private pending: BerthEvent[] = [];
  private afterCommit: (() => void)[] = [];
  private flushScheduled = false;
  private committedSeq: number;
  private readonly listeners = new Set<(events: readonly BerthEvent[]) => void>();
  private readonly closeListeners = new Set<() => void>();

  constructor(
    path: string,
    private readonly retainCount: number,
  ) {
    this.db = new Database(path);
    // WAL + NORMAL: a commit survives the supervisor crashing at any point.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    this.projection = new Projection(this.db);
    this.insert = this.db.prepare(
      `INSERT INTO events (ts, type, container_id, process_id, from_state, to_state, pid, status, signal, reason)
       VALUES (@ts, @type, @id, @processId, @from, @to, @pid, @status, @signal, @reason)`,
    );
    // Keeps exactly the newest N rows, whatever gaps seq may have.
    this.prune = this.db.prepare(
      'DELETE FROM events WHERE seq < (SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET ?)',
    );
    this.committedSeq = this.lastSeq();
  }

  /** Highest seq ever assigned, even if retention has since removed the row. */
  private lastSeq(): number {
    const row = this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get() as
      | { seq: number }
      | undefined;
    return row?.seq ?? 0;
  }

  /** Seq of the newest committed row (0 for an empty journal). */
  get headSeq(): number {
    return this.committedSeq;
  }

  /**
   * Appends inside the open group transaction, updating the registry projection in
   * the same transaction, and returns the row as it will be published.
   */
  append(entry: JournalEntry, detail?: ContainerDetail): BerthEvent {
    if (!this.db.inTransaction) this.db.exec('BEGIN');
    const ts = (entry.time ?? new Date()).getTime();
    const result = this.insert.run({
      ts,
      type: entry.type,
      id: entry.id,
      processId: entry.processId ?? null,
      from: entry.from ?? null,
      to: entry.to ?? null,
      pid: entry.pid ?? null,
      status: entry.status ?? null,
      signal: entry.signal ?? null,
      reason: entry.reason ?? null,
    });
    const { time: _time, ...rest } = entry;
    const event: BerthEvent = { ...rest, seq: Number(result.lastInsertRowid), time: new Date(ts) };
    this.projection.record(entry, event.seq, detail);
    this.pending.push(event);
    this.scheduleFlush();
    return event;
  }

  /** Runs `fn` once everything appended so far is committed (at once if nothing is pending). */
  whenCommitted(fn: () => void): void {
    if (this.pending.length === 0 && !this.db.inTransaction) fn();
    else {
      this.afterCommit.push(fn);
      this.scheduleFlush();
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Commits the open group; then tells listeners and runs the after-commit callbacks, in seq order. */
  flush(): void {
    this.flushScheduled = false;
    if (this.db.inTransaction) {
      if (this.retainCount > 0) this.prune.run(this.retainCount - 1);
      this.db.exec('COMMIT');
    }
    const committed = this.pending;
    const callbacks = this.afterCommit;
    this.pending = [];
    this.afterCommit = [];
    if (committed.length > 0) {
      this.committedSeq = committed[committed.length - 1]!.seq;
      for (const listener of this.listeners) listener(committed);
    }
    for (const fn of callbacks) fn();
  }

  /** Called with every committed batch, in seq order. */
  onCommit(listener: (events: readonly BerthEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Committed rows matching the filter, oldest first. */
  replay(filter: ReplayFilter): BerthEvent[] {
    const where = ['seq <= @head'];
    const params: Record<string, unknown> = { head: this.committedSeq };
    if (filter.after !== undefined) {
      where.push('seq > @after');
      params.after = filter.after;
    }
    if (filter.since !== undefined) {
      where.push('ts >= @since');
      params.since = filter.since.getTime();
    }
    if (filter.id !== undefined) {
      where.push('container_id = @id');
      params.id = filter.id;
    }
    if (filter.types !== undefined) {
      const names = filter.types.map((_, i) => `@type${i}`);
      filter.types.forEach((type, i) => (params[`type${i}`] = type));
      where.push(`type IN (${names.join(', ') || 'NULL'})`);
    }
    const rows = this.db.prepare(`SELECT * FROM events WHERE ${where.join(' AND ')} ORDER BY seq`).all(params) as Row[];
    return rows.map(toEvent);
  }

  /** Seq of the oldest row still kept, or undefined for an empty table. */
  oldestSeq(): number | undefined {
    const row = this.db.prepare('SELECT MIN(seq) AS seq FROM events').get() as { seq: number | null };
    return row.seq ?? undefined;
  }

  /** The registry as of the last commit, for restore. */
  registry(): StoredContainer[] {
    return this.projection.load();
  }

  /** Called once, when the journal closes. */
  onClose(listener: () => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
  }

  close(): void {
    this.flush();
    this.db.close();
    for (const listener of this.closeListeners) listener();
    this.closeListeners.clear();
    this.listeners.clear();
  }
}
