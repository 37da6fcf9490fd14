import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Journal } from '../src/io/journal/journal.js';
import { fmt, median, scratchDir, type Result } from './util.js';

const ROWS = 200_000;
const BURST = 1_000;

const committed = (journal: Journal) => new Promise<void>((done) => journal.whenCommitted(done));
const tick = () => new Promise<void>((done) => setImmediate(done));

/** berth's journal: every append in a WAL commit (synchronous=NORMAL) before it is announced. */
async function journalRate(): Promise<number> {
  const scratch = scratchDir('journal');
  const journal = new Journal(join(scratch.dir, 'journal.db'), 0);
  const start = performance.now();
  for (let i = 0; i < ROWS; i++) {
    journal.append({ type: 'exit', id: `c${i % 100}`, processId: 'init', from: 'running', to: 'exited', status: 0 });
    if (i % BURST === BURST - 1) await tick();
  }
  await committed(journal);
  const rate = ROWS / ((performance.now() - start) / 1000);
  journal.close();
  scratch.remove();
  return rate;
}

/** Raw better-sqlite3, same settings and schema, one autocommit INSERT per row. */
function rawAutocommitRate(rows: number): number {
  const scratch = scratchDir('raw');
  const db = new Database(join(scratch.dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER, type TEXT, container_id TEXT, process_id TEXT, status INTEGER)');
  const insert = db.prepare('INSERT INTO events (ts, type, container_id, process_id, status) VALUES (?, ?, ?, ?, ?)');
  const start = performance.now();
  for (let i = 0; i < rows; i++) insert.run(Date.now(), 'exit', `c${i % 100}`, 'init', 0);
  const rate = rows / ((performance.now() - start) / 1000);
  db.close();
  scratch.remove();
  return rate;
}

export async function journalBench(): Promise<Result> {
  const berth = median([await journalRate(), await journalRate(), await journalRate()]);
  const raw = median([rawAutocommitRate(50_000), rawAutocommitRate(50_000), rawAutocommitRate(50_000)]);
  return {
    name: `journal appends/s (WAL, synchronous=NORMAL, committed before announced; ${fmt(ROWS)} rows, median of 3)`,
    value: `${fmt(berth)}/s`,
    comparison: `raw SQLite autocommit INSERT ${fmt(raw)}/s → ${fmt(berth / raw, 1)}×`,
    goal: '≥ 100,000/s',
    met: berth >= 100_000,
  };
}
