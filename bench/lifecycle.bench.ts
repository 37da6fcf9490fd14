import { spawn } from 'node:child_process';
import { pino } from 'pino';
import { Supervisor } from '../src/index.js';
import { fmt, median, pool, scratchDir, type Result } from './util.js';

export const TOTAL = 400;
export const CONCURRENCY = 16;
const ROUNDS = 3;

/** One round of TOTAL process lifecycles on `sv`, CONCURRENCY at a time; returns lifecycles per second. */
export async function lifecycleRound(sv: Supervisor, round: string): Promise<number> {
  const seconds = await pool(TOTAL, CONCURRENCY, async (i) => {
    const id = `r${round}-${i}`;
    await sv.create({ id, process: { args: ['true'] } });
    await sv.start(id);
    await sv.wait(id);
    await sv.delete(id);
  });
  return TOTAL / seconds;
}

/** Raw child_process: spawn `true` in its own process group and wait for its exit. */
function rawLifecycle(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('true', [], { stdio: 'ignore', detached: true });
    child.once('error', reject);
    child.once('exit', () => resolve());
  });
}

/**
 * Process lifecycles per second: create → start → exit of `true` → delete, 16 at a
 * time, against raw child_process.spawn + wait of the same command; rounds alternate.
 */
export async function lifecycleBench(): Promise<Result> {
  const scratch = scratchDir('lifecycle');
  const sv = await Supervisor.open({ stateDir: scratch.dir, logger: pino({ level: 'silent' }) });
  const berthRates: number[] = [];
  const rawRates: number[] = [];
  try {
    await lifecycleRound(sv, 'warm-up');
    await pool(50, CONCURRENCY, rawLifecycle);
    for (let round = 0; round < ROUNDS; round++) {
      rawRates.push(TOTAL / (await pool(TOTAL, CONCURRENCY, rawLifecycle)));
      berthRates.push(await lifecycleRound(sv, String(round)));
    }
  } finally {
    await sv.close();
    scratch.remove();
  }
  const berth = median(berthRates);
  const raw = median(rawRates);
  return {
    name: `process lifecycles/s (${CONCURRENCY} concurrent, median of ${ROUNDS}×${TOTAL})`,
    value: `${fmt(berth)}/s`,
    comparison: `raw child_process ${fmt(raw)}/s → ${fmt(berth / raw, 2)}×`,
    goal: '≥ 0.8× raw',
    met: berth / raw >= 0.8,
  };
}
