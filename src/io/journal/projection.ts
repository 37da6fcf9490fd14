import type Database from 'better-sqlite3';
import type { ContainerDetail, ContainerStatus, ContainerSpec, ExitInfo, JournalEntry, RestartPolicy } from '../../types.js';
import { addMissingColumns } from './columns.js';

export interface StoredProcess {
  id: string;
  status: 'created' | 'running' | 'exited';
  pid?: number;
  exit?: ExitInfo;
}

/** Where a container's restart policy stood at the last commit. */
export interface StoredRestarts {
  attempts: number;
  lastDelayMs?: number;
  /** When the pending restart (status `restarting`) is due. */
  dueAt?: Date;
  /** When init's current (or last) generation started. */
  startedAt?: Date;
  /** A `restart` row ended the policy (a user's stop, a failed restart). */
  ended: boolean;
}

export interface StoredContainer extends ContainerDetail {
  id: string;
  status: ContainerStatus;
  /** init first, then execs in the order they started. */
  processes: StoredProcess[];
  /** Absent for a container the journal holds no restart state of (a registry rebuilt by `recover`). */
  restarts?: StoredRestarts;
}

/** The restart policy, and where it stands: a restart that is journaled survives a crash. */
const RESTART_COLUMNS = {
  restart: 'TEXT',
  restarts: 'INTEGER NOT NULL DEFAULT 0',
  restart_delay_ms: 'INTEGER',
  restart_due_at: 'INTEGER',
  restart_ended: 'INTEGER NOT NULL DEFAULT 0',
  started_at: 'INTEGER',
};

const SCHEMA = `
CREATE TABLE IF NOT EXISTS containers (
  id         TEXT PRIMARY KEY,
  status     TEXT    NOT NULL,
  spec       TEXT    NOT NULL,
  labels     TEXT    NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS processes (
  container_id TEXT    NOT NULL,
  process_id   TEXT    NOT NULL,
  ordinal      INTEGER NOT NULL,
  status       TEXT    NOT NULL,
  pid          INTEGER,
  exit_status  INTEGER,
  signal       TEXT,
  reason       TEXT,
  exited_at    INTEGER,
  PRIMARY KEY (container_id, process_id)
);
`;

interface ProcessRow {
  container_id: string;
  process_id: string;
  status: StoredProcess['status'];
  pid: number | null;
  exit_status: number | null;
  signal: string | null;
  reason: string | null;
  exited_at: number | null;
}

/**
 * The registry as of the last commit: a projection of the journal kept in the
 * same database and updated in the same transaction as each row, so what is
 * restored after a crash is exactly what was published — no more, no less.
 * Unlike the event table, retention never trims it.
 */
export class Projection {
  private readonly apply: Record<JournalEntry['type'], (entry: JournalEntry, seq: number, detail?: ContainerDetail) => void>;

  constructor(private readonly db: Database.Database) {
    db.exec(SCHEMA);
    addMissingColumns(db, 'containers', RESTART_COLUMNS);
    const insertContainer = db.prepare(
      "INSERT INTO containers (id, status, spec, labels, created_at, restart) VALUES (?, 'created', ?, ?, ?, ?)",
    );
    const setStarted = db.prepare("UPDATE containers SET status = 'running', started_at = ? WHERE id = ?");
    const scheduleRestart = db.prepare(
      "UPDATE containers SET status = 'restarting', restarts = ?, restart_delay_ms = ?, restart_due_at = ?, restart_ended = 0 WHERE id = ?",
    );
    const endRestarts = db.prepare("UPDATE containers SET status = 'exited', restart_ended = 1, restart_due_at = NULL WHERE id = ?");
    const setContainer = db.prepare('UPDATE containers SET status = ? WHERE id = ?');
    const upsertProcess = db.prepare(
      `INSERT INTO processes (container_id, process_id, ordinal, status, pid) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (container_id, process_id) DO UPDATE SET status = excluded.status, pid = excluded.pid`,
    );
    const exitProcess = db.prepare(
      `UPDATE processes SET status = 'exited', exit_status = ?, signal = ?, reason = ?, exited_at = ?
       WHERE container_id = ? AND process_id = ?`,
    );
    const dropContainer = db.prepare('DELETE FROM containers WHERE id = ?');
    const dropProcesses = db.prepare('DELETE FROM processes WHERE container_id = ?');
    const none = () => {};
    this.apply = {
      create: (e, seq, detail) => {
        const restart = detail!.restart ? JSON.stringify(detail!.restart) : null;
        insertContainer.run(e.id, JSON.stringify(detail!.spec), JSON.stringify(detail!.labels), detail!.createdAt.getTime(), restart);
        upsertProcess.run(e.id, 'init', seq, 'created', null);
      },
      'start-container': (e, seq) => {
        setStarted.run((e.time ?? new Date()).getTime(), e.id);
        upsertProcess.run(e.id, 'init', seq, 'running', e.pid ?? null);
      },
      'start-process': (e, seq) => upsertProcess.run(e.id, e.processId, seq, 'running', e.pid ?? null),
      exit: (e) => {
        exitProcess.run(e.status ?? 255, e.signal ?? null, e.reason ?? null, (e.time ?? new Date()).getTime(), e.id, e.processId);
        if (e.processId === 'init') setContainer.run('exited', e.id);
      },
      pause: (e) => setContainer.run('paused', e.id),
      resume: (e) => setContainer.run('running', e.id),
      delete: (e) => {
        dropContainer.run(e.id);
        dropProcesses.run(e.id);
      },
      restart: (e) => {
        if (e.to === 'restarting') scheduleRestart.run(e.attempt ?? 0, e.delayMs ?? 0, (e.time ?? new Date()).getTime() + (e.delayMs ?? 0), e.id);
        else endRestarts.run(e.id);
      },
      oom: none,
      quarantine: none,
    };
  }

  record(entry: JournalEntry, seq: number, detail?: ContainerDetail): void {
    this.apply[entry.type](entry, seq, detail);
  }

  /** Every container with its processes: two queries, whatever the count. */
  load(): StoredContainer[] {
    const containers = this.db.prepare('SELECT * FROM containers ORDER BY created_at, id').all() as {
      id: string;
      status: ContainerStatus;
      spec: string;
      labels: string;
      created_at: number;
      restart: string | null;
      restarts: number;
      restart_delay_ms: number | null;
      restart_due_at: number | null;
      restart_ended: number;
      started_at: number | null;
    }[];
    const processes = this.db.prepare('SELECT * FROM processes ORDER BY ordinal').all() as ProcessRow[];
    const byContainer = new Map<string, StoredProcess[]>();
    for (const row of processes) {
      const proc: StoredProcess = { id: row.process_id, status: row.status };
      if (row.pid !== null) proc.pid = row.pid;
      if (row.status === 'exited') {
        proc.exit = { status: row.exit_status ?? 255, exitedAt: new Date(row.exited_at ?? 0) };
        if (row.signal) proc.exit.signal = row.signal;
        if (row.reason) proc.exit.reason = row.reason;
      }
      const list = byContainer.get(row.container_id);
      if (list) list.push(proc);
      else byContainer.set(row.container_id, [proc]);
    }
    return containers.map((row) => ({
      id: row.id,
      status: row.status,
      spec: JSON.parse(row.spec) as ContainerSpec,
      labels: JSON.parse(row.labels) as Record<string, string>,
      createdAt: new Date(row.created_at),
      processes: byContainer.get(row.id) ?? [],
      ...(row.restart !== null ? { restart: JSON.parse(row.restart) as RestartPolicy } : {}),
      restarts: {
        attempts: row.restarts,
        ended: row.restart_ended === 1,
        ...(row.restart_delay_ms !== null ? { lastDelayMs: row.restart_delay_ms } : {}),
        ...(row.restart_due_at !== null ? { dueAt: new Date(row.restart_due_at) } : {}),
        ...(row.started_at !== null ? { startedAt: new Date(row.started_at) } : {}),
      },
    }));
  }
}
