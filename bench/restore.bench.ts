import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { Supervisor } from '../src/index.js';
import { readRecord } from '../src/io/process/shim-records.js';
import { fmt, median, pool, scratchDir, type Result } from './util.js';

const CONTAINERS = 100;

function rssKB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
}

/**
 * 100 running containers left by a supervisor (close with leaveRunning), then
 * re-adopted by a new one: how long open() takes, and what each process's
 * berth-shim monitor costs in memory, beside the supervisor's own Node process.
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
      monitorKB = sv.list().map((c) => rssKB(readRecord(join(scratch.dir, 'containers', c.id), 'init').started!.monitorPid));
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
      goal: '≤ 3,000 ms',
      met: openMs <= 3_000,
    },
    {
      name: 'memory of one process monitor (berth-shim, VmRSS, median)',
      value: `${fmt(median(monitorKB))} kB`,
      comparison: `this supervisor's own Node process: ${fmt(rssKB(process.pid) / 1024)} MB`,
      goal: 'light (no Node per container)',
      met: median(monitorKB) < 4_096,
    },
  ];
}
