import { pino } from 'pino';
import { Supervisor } from '../src/index.js';
import { CONCURRENCY, lifecycleRound, TOTAL } from './lifecycle.bench.js';
import { fmt, median, scratchDir, type Result } from './util.js';

const ROUNDS = 5;

/**
 * What metrics cost: process lifecycles/s on a supervisor with metrics (scraped
 * once per round) against one without (the default),
 * in alternating rounds of the same run.
 */
export async function metricsBench(): Promise<Result> {
  const scratch = scratchDir('metrics');
  const logger = pino({ level: 'silent' });
  const on = await Supervisor.open({ stateDir: `${scratch.dir}/on`, logger, metrics: true });
  const off = await Supervisor.open({ stateDir: `${scratch.dir}/off`, logger });
  const onRates: number[] = [];
  const offRates: number[] = [];
  try {
    await lifecycleRound(on, 'warm-up');
    await lifecycleRound(off, 'warm-up');
    for (let round = 0; round < ROUNDS; round++) {
      // Which goes first alternates, so a machine growing busier does not favour either.
      const order = round % 2 ? [on, off] : [off, on];
      for (const sv of order) {
        const rate = await lifecycleRound(sv, String(round));
        if (sv === on) {
          await on.metrics();
          onRates.push(rate);
        } else offRates.push(rate);
      }
    }
  } finally {
    await on.close();
    await off.close();
    scratch.remove();
  }
  const withMetrics = median(onRates);
  const without = median(offRates);
  const ratio = withMetrics / without;
  return {
    name: `process lifecycles/s with metrics (${CONCURRENCY} concurrent, median of ${ROUNDS}×${TOTAL})`,
    value: `${fmt(withMetrics)}/s`,
    comparison: `without ${fmt(without)}/s → ${fmt(ratio, 3)}× (rounds on ${onRates.map((r) => fmt(r)).join(', ')}; off ${offRates.map((r) => fmt(r)).join(', ')})`,
    goal: '≥ 0.95× without',
    met: ratio >= 0.95,
  };
}
