import { pino } from 'pino';
import { Supervisor } from '../src/index.js';
import { fmt, median, pool, scratchDir, type Result } from './util.js';

const PROCESSES = 1_000;

function heapMB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

/** 1,000 concurrently supervised `sleep` processes: heap used and the cost of list(). */
export async function scaleBench(): Promise<Result[]> {
  const scratch = scratchDir('scale');
  const sv = await Supervisor.open({ stateDir: scratch.dir, logger: pino({ level: 'silent' }) });
  const before = heapMB();
  try {
    await pool(PROCESSES, 16, async (i) => {
      await sv.create({ id: `s${i}`, process: { args: ['sleep', '600'] } });
      await sv.start(`s${i}`);
    });
    const running = sv.list().filter((c) => c.status === 'running').length;
    const heap = heapMB();
    const timings: number[] = [];
    for (let i = 0; i < 21; i++) {
      const start = performance.now();
      sv.list();
      timings.push(performance.now() - start);
    }
    const listMs = median(timings);
    const gc = (globalThis as { gc?: unknown }).gc ? 'after gc' : 'no --expose-gc';
    return [
      {
        name: `${fmt(running)} supervised processes: heap used (${gc})`,
        value: `${fmt(heap, 1)} MB`,
        comparison: `${fmt(before, 1)} MB before`,
        goal: '≤ 150 MB',
        met: heap <= 150 && running === PROCESSES,
      },
      {
        name: `${fmt(running)} supervised processes: list() (median of 21)`,
        value: `${fmt(listMs, 2)} ms`,
        comparison: '',
        goal: '≤ 10 ms',
        met: listMs <= 10,
      },
    ];
  } finally {
    await sv.close();
    scratch.remove();
  }
}
