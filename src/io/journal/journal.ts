import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BerthError } from '../../errors.js';
import { createPrivateFile } from '../os/private-file.js';
import type { BerthEvent, ContainerDetail, EventType, JournalEntry } from '../../types.js';
import { damaged, journalError } from './journal-errors.js';
import { Projection, type StoredContainer } from './projection.js';
import { addMissingColumns } from './columns.js';
import { SeqMark } from './seq-mark.js';

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
  attempt: number | null;
  delay_ms: number | null;
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
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;

/** A journal put back from an older copy: where it ended, and where seq goes on instead. */
export interface BehindMark {
  journalSeq: number;
  publishedSeq: number;
  continuesAt: number;
}

function toEvent(row: Row): BerthEvent {
  const event: BerthEvent = { seq: row.seq, time: new Date(row.ts), type: row.type as EventType, id: row.container_id };
  if (row.process_id !== null) event.processId = row.process_id;
  if (row.from_state !== null) event.from = row.from_state;
  if (row.to_state !== null) event.to = row.to_state;
  if (row.pid !== null) event.pid = row.pid;
  if (row.status !== null) event.status = row.status;
  if (row.signal !== null) event.signal = row.signal;
  if (row.reason !== null) event.reason = row.reason;
  if (row.attempt !== null) event.attempt = row.attempt;
  if (row.delay_ms !== null) event.delayMs = row.delay_ms;
  return event;
}

interface Staged {
  event: BerthEvent;
  detail?: ContainerDetail;
}

/** How long a failed commit (a full disk) waits before it is tried again, if no new row tries it sooner. */
const RETRY_MS = 500;

/**
 * The event table. Appends are grouped into one transaction per turn of the event
 * loop (group commit): a burst of transitions costs one fsync-free WAL commit, and
 * nothing is announced — no listener called, no promise settled — before the
 * commit that makes it durable has happened.
 *
 * A commit that fails (a full disk) loses nothing and throws nowhere: its rows
 * stay in memory, in seq order, and are committed by the next attempt — on the
 * next append, or on a timer.
 */
export class Journal {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly prune: Database.Statement;
  private readonly projection: Projection;
  private readonly mark: SeqMark;
  private pending: Staged[] = [];
  private afterCommit: (() => void)[] = [];
  private flushScheduled = false;
  private retry: NodeJS.Timeout | undefined;
  private committedSeq: number;
  /** Highest seq in the database: ahead of committedSeq while a committed batch waits to be announced. */
  private storedSeq: number;
  private nextSeq: number;
  /** Set while committed rows wait in memory because the last commit failed. */
  private writeFailure: BerthError | undefined;
  /** The database held no row before: a first open, or a journal that was lost. */
  readonly fresh: boolean;
  /** Set when the journal ends below a seq that may have been published: it was put back from an older copy. */
  readonly behind: BehindMark | undefined;
  private readonly listeners = new Set<(events: readonly BerthEvent[]) => void>();
  private readonly closeListeners = new Set<() => void>();
  private readonly failureListeners = new Set<(err: BerthError) => void>();
  private readonly storeListeners = new Set<(seconds: number) => void>();

  /** Opens (creating if missing) the journal at `path`, checking its integrity; its seq mark lives beside it. */
  constructor(
    private readonly path: string,
    private readonly retainCount: number,
  ) {
    try {
      createPrivateFile(path);
      this.db = new Database(path);
    } catch (err) {
      throw journalError(err, path);
    }
    try {
      const problems = this.db.pragma('quick_check') as { quick_check: string }[];
      if (problems[0]?.quick_check !== 'ok') throw damaged(path, problems.map((p) => p.quick_check).slice(0, 3).join('; ').replace(/\s+/g, ' '));
      // WAL + NORMAL: a commit survives the supervisor crashing at any point.
      const mode = this.db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new BerthError('runtime-error', `journal ${path} cannot use write-ahead logging (mode ${mode}): its directory must be writable`);
      this.db.pragma('synchronous = NORMAL');
      // A file that holds no journal yet: new, or put in place of a lost one (the caller tells which).
      this.fresh = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").get() === undefined;
      this.db.exec(SCHEMA);
      // `restart` rows' attempt number and wait.
      addMissingColumns(this.db, 'events', { attempt: 'INTEGER', delay_ms: 'INTEGER' });
      // A write now, so that a journal which opens but cannot be written fails here, not on the first commit.
      this.db.pragma('user_version = 1');
      this.projection = new Projection(this.db);
      // Bound by position: no object of named parameters to build for each row.
      this.insert = this.db.prepare(
        `INSERT INTO events (seq, ts, type, container_id, process_id, from_state, to_state, pid, status, signal, reason, attempt, delay_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      // Keeps exactly the newest N rows, whatever gaps seq may have.
      this.prune = this.db.prepare(
        'DELETE FROM events WHERE seq < (SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET ?)',
      );
      this.mark = SeqMark.open(join(dirname(path), 'seq.mark'));
    } catch (err) {
      this.db.close();
      throw journalError(err, path);
    }
    // An intact journal is the authority (a seq reserved but never committed was never published).
    // One that replaces a lost one, or ends below what may have been published (a backup put back),
    // goes on above every seq the mark says was handed out: a gap, never a reused seq.
    const last = this.lastSeq();
    const behind = !this.fresh && last < this.mark.published;
    this.committedSeq = this.fresh || behind ? this.mark.value : last;
    this.storedSeq = this.committedSeq;
    this.nextSeq = this.committedSeq + 1;
    this.behind = behind ? { journalSeq: last, publishedSeq: this.mark.published, continuesAt: this.nextSeq } : undefined;
  }

  /** Highest seq ever committed, even if retention has since removed the row. */
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

  /** Why rows are waiting in memory (a full disk), or undefined while commits succeed. */
  get failure(): BerthError | undefined {
    return this.writeFailure;
  }

  /**
   * Stages a row for the next group commit, with the registry projection updated
   * in the same transaction, and returns the row as it will be published. Never
   * throws: a failed commit keeps the row for the next attempt.
   */
  append(entry: JournalEntry, detail?: ContainerDetail): BerthEvent {
    const event: BerthEvent = { ...entry, seq: this.nextSeq++, time: entry.time ?? new Date() };
    this.pending.push(detail ? { event, detail } : { event });
    this.scheduleFlush();
    return event;
  }

  /** Runs `fn` once everything appended so far is committed (at once if nothing is pending). */
  whenCommitted(fn: () => void): void {
    if (this.pending.length === 0) fn();
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

  /**
   * Commits what is staged; then tells listeners and runs the after-commit callbacks, in seq order.
   * Listeners (event streams among them) run first, so a promise settled by a callback resolves only
   * after every subscriber has been handed the rows it waited for.
   */
  flush(): void {
    this.flushScheduled = false;
    const committed = this.pending;
    if (committed.length > 0 && !this.commit(committed)) return;
    const callbacks = this.afterCommit;
    this.pending = [];
    this.afterCommit = [];
    if (committed.length > 0) {
      this.committedSeq = committed[committed.length - 1]!.event.seq;
      const events = committed.map((staged) => staged.event);
      // A copy: a listener added while these run (a subscribe from inside a handler) replays this batch itself.
      for (const listener of [...this.listeners]) listener(events);
    }
    for (const fn of callbacks) fn();
  }

  /**
   * One transaction for the rows not yet stored; on failure nothing of it is kept on disk, all of
   * it in memory. Then the mark records the batch as published, before anything announces it.
   */
  private commit(batch: readonly Staged[]): boolean {
    const last = batch[batch.length - 1]!.event.seq;
    const began = performance.now();
    let storedIn: number | undefined;
    try {
      const unstored = batch.filter(({ event }) => event.seq > this.storedSeq);
      if (unstored.length > 0) {
        // The mark covers a seq before any row carries it.
        this.mark.reserve(last);
        this.store(unstored);
        this.storedSeq = last;
      }
      this.mark.publish(last);
      if (unstored.length > 0) storedIn = (performance.now() - began) / 1000;
    } catch (err) {
      const first = this.writeFailure === undefined;
      this.writeFailure = journalError(err, this.path);
      if (first) for (const listener of this.failureListeners) listener(this.writeFailure);
      this.retry ??= setTimeout(() => {
        this.retry = undefined;
        this.flush();
      }, RETRY_MS);
      return false;
    }
    this.writeFailure = undefined;
    clearTimeout(this.retry);
    this.retry = undefined;
    if (storedIn !== undefined) for (const listener of this.storeListeners) listener(storedIn);
    return true;
  }

  /** The rows and their registry projection, in one transaction. */
  private store(rows: readonly Staged[]): void {
    this.db.transaction(() => {
      for (const { event, detail } of rows) {
        const { seq, time, type, id, processId, from, to, pid, status, signal, reason, attempt, delayMs } = event;
        this.insert.run(seq, time.getTime(), type, id, processId ?? null, from ?? null, to ?? null, pid ?? null, status ?? null, signal ?? null, reason ?? null, attempt ?? null, delayMs ?? null);
        this.projection.record(event, seq, detail);
      }
      if (this.retainCount > 0) this.prune.run(this.retainCount - 1);
    })();
  }

  /** Called once each time commits start failing (with why), so the owner can say so. */
  onFailure(listener: (err: BerthError) => void): () => void {
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  }

  /** Called with how long each successful commit of new rows took (seq mark included), in seconds. */
  onStore(listener: (seconds: number) => void): () => void {
    this.storeListeners.add(listener);
    return () => this.storeListeners.delete(listener);
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
    try {
      return this.projection.load();
    } catch (err) {
      throw journalError(err, this.path);
    }
  }

  /**
   * Records the runtime at the first open and refuses any other: restoring one
   * runtime's containers with the other would report each as lost while it runs
   * on. A journal from before the record names the runtime of its containers,
   * or, holding none, the runtime of this open.
   */
  claimRuntime(runtime: string): void {
    try {
      const row = this.db.prepare("SELECT value FROM meta WHERE key = 'runtime'").get() as { value: string } | undefined;
      const owner = row?.value ?? this.projection.load().map((c) => ('bundle' in c.spec ? 'runc' : 'process'))[0];
      if (owner !== undefined && owner !== runtime) {
        throw new BerthError('invalid-spec', `state dir ${dirname(this.path)} belongs to the ${owner} runtime and cannot be opened with the ${runtime} runtime: open it with runtime '${owner}' (berth --runtime ${owner})`);
      }
      if (row === undefined) this.db.prepare("INSERT INTO meta (key, value) VALUES ('runtime', ?)").run(runtime);
    } catch (err) {
      throw journalError(err, this.path);
    }
  }

  /** Called once, when the journal closes. */
  onClose(listener: () => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
  }

  /**
   * Commits what it can and closes. Rows a full disk still refuses are not
   * journaled; the runtimes' records on disk let the next open learn those exits again.
   */
  close(): void {
    this.flush();
    clearTimeout(this.retry);
    this.pending = [];
    this.afterCommit = [];
    try {
      this.mark.close(this.storedSeq);
    } catch {
      // the mark stays reserved ahead: a gap in seq, never a reuse
    }
    this.db.close();
    this.failureListeners.clear();
    this.storeListeners.clear();
    for (const listener of this.closeListeners) listener();
    this.closeListeners.clear();
    this.listeners.clear();
  }

  /** Closes, and removes the journal if this open created it: a refused or failed first open leaves no journal behind. */
  abandon(): void {
    this.close();
    if (!this.fresh) return;
    for (const file of [this.path, `${this.path}-wal`, `${this.path}-shm`]) rmSync(file, { force: true });
  }
}
