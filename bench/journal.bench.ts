import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Journal } from '../src/io/journal/journal.js';
import type { JournalEntry } from '../src/types.js';
import { benchCount, fmt, median, scratchDir, type Result } from './util.js';

/** Rows each berth round appends (BERTH_BENCH_JOURNAL_ROWS, default 200,000); the raw rounds write a quarter as many. */
const ROWS = benchCount('BERTH_BENCH_JOURNAL_ROWS', 200_000);
/** Callers appending at once, each waiting for its row's commit before it appends the next (BERTH_BENCH_JOURNAL_WRITERS). */
const WRITERS = benchCount('BERTH_BENCH_JOURNAL_WRITERS', 1_000);
const ROUNDS = 3;

const row = (i: number): JournalEntry => ({ type: 'exit', id: `c${i % 100}`, processId: `p${i}`, from: 'running', to: 'exited', status: 0 });

/**
 * berth's journal, as the supervisor uses it: WRITERS callers at once, each
 * appending a row and waiting until it is committed (WAL, synchronous=NORMAL)
 * and announced before it appends its next; concurrent appends share a commit.
 */
async function journalRate(): Promise<number> {
  const scratch = scratchDir('journal');
  const journal = new Journal(join(scratch.dir, 'journal.db'), 0);
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (next < ROWS) {
        journal.append(row(next++));
        await new Promise<void>((done) => journal.whenCommitted(done));
      }
    }),
  );
  const rate = ROWS / ((performance.now() - start) / 1000);
  journal.close();
  scratch.remove();
  return rate;
}

/**
 * Raw better-sqlite3 on a journal's own file (its tables and indexes, WAL,
 * synchronous=NORMAL), the same rows as INSERTs: one transaction per row
 * (autocommit), or every row in one transaction (the ceiling).
 */
function rawRate(rows: number, oneTransaction: boolean): number {
  const scratch = scratchDir('raw');
  const path = join(scratch.dir, 'journal.db');
  new Journal(path, 0).close();
  const db = new Database(path);
  db.pragma('synchronous = NORMAL');
  const insert = db.prepare(
    'INSERT INTO events (ts, type, container_id, process_id, from_state, to_state, status) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const insertRow = (i: number) => {
    const { type, id, processId, from, to, status } = row(i);
    insert.run(Date.now(), type, id, processId, from, to, status);
  };
  const insertAll = () => {
    for (let i = 0; i < rows; i++) insertRow(i);
  };
  const start = performance.now();
  if (oneTransaction) db.transaction(insertAll)();
  else insertAll();
  const rate = rows / ((performance.now() - start) / 1000);
  db.close();
  scratch.remove();
  return rate;
}

/** Journal appends/s beside raw autocommit INSERTs and raw INSERTs in one transaction, rounds alternating in one run. */
export async function journalBench(): Promise<Result> {
  const berth: number[] = [];
  const autocommit: number[] = [];
  const ceiling: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    autocommit.push(rawRate(Math.ceil(ROWS / 4), false));
    ceiling.push(rawRate(ROWS, true));
    berth.push(await journalRate());
  }
  const [rate, raw, most] = [median(berth), median(autocommit), median(ceiling)];
  return {
    name: `journal appends/s (${fmt(WRITERS)} callers at once, each awaiting its commit; WAL, synchronous=NORMAL; ${fmt(ROWS)} rows, median of ${ROUNDS})`,
    value: `${fmt(rate)}/s`,
    comparison: `raw autocommit INSERT ${fmt(raw)}/s → ${fmt(rate / raw, 1)}×; raw INSERTs in one transaction ${fmt(most)}/s → ${fmt(rate / most, 2)}×`,
    goal: '≥ 2× autocommit, ≥ 0.5× one transaction',
    met: rate >= 2 * raw && rate >= 0.5 * most,
  };
}
