import { join } from 'node:path';
import { pino } from 'pino';
import { Supervisor } from '../src/index.js';
import { readRecord } from '../src/io/process/shim-records.js';
import { benchCount, fmt, median, pool, scratchDir, smapsKB, type Result } from './util.js';

/** Running containers to restore (BERTH_BENCH_RESTORE, default 1,000). */
const CONTAINERS = benchCount('BERTH_BENCH_RESTORE', 1_000);

/**
 * 1,000 running containers left by a supervisor (close with leaveRunning), then
 * re-adopted by a new one: how long open() takes, and what each process's
 * berth-shim monitor costs in memory (PSS: its own pages, and its share of
 * those it shares), beside the supervisor's own Node process.
 */
export async function restoreBench(): Promise<Result[]> {
  const scratch = scratchDir('restore');
  const logger = pino({ level: 'silent' });
  const opens: number[] = [];
  let monitorKB: number[] = [];
  try {
    const first = await Supervisor.open({ stateDir: scratch.dir, logger });
    await pool(CONTAINERS, 16, async (i) => {
      await first.create({ id: `r${i}`, process: { args: ['sleep', '600'] } });
      await first.start(`r${i}`);
    });
    await first.close({ leaveRunning: true });
    for (let round = 0; round < 3; round++) {
      const start = performance.now();
      const sv = await Supervisor.open({ stateDir: scratch.dir, logger });
      opens.push(performance.now() - start);
      const running = sv.list().filter((c) => c.status === 'running').length;
      if (running !== CONTAINERS) throw new Error(`restored ${running} running containers, expected ${CONTAINERS}`);
      monitorKB = sv.list().map((c) => smapsKB(readRecord(join(scratch.dir, 'containers', c.id), 'init').started!.monitorPid).pss);
      await sv.close({ leaveRunning: round < 2 });
    }
  } finally {
    scratch.remove();
  }
  const openMs = median(opens);
  return [
    {
      name: `restore ${CONTAINERS} running containers (open() after close with leaveRunning, median of 3)`,
      value: `${fmt(openMs)} ms`,
      comparison: '',
      goal: '≤ 1,000 ms',
      met: openMs <= 1_000,
    },
    {
      name: 'memory of one process monitor (berth-shim, PSS, median)',
      value: `${fmt(median(monitorKB))} kB`,
      comparison: `this supervisor's own Node process: PSS ${fmt(smapsKB(process.pid).pss / 1024)} MB`,
      goal: 'light (no Node per container)',
      met: median(monitorKB) < 4_096,
    },
  ];
}
