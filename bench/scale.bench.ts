import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { Supervisor } from '../src/index.js';
import { readRecord } from '../src/io/process/shim-records.js';
import { benchCount, fmt, median, pool, scratchDir, smapsKB, type Result } from './util.js';

/** How many processes run at once (BERTH_BENCH_PROCESSES, default 5,000). */
const PROCESSES = benchCount('BERTH_BENCH_PROCESSES', 5_000);
/** Sequential create → running timings taken with one process running, and again with all of them. */
const PROBES = 10;
const CONCURRENCY = 16;
/** How long the supervisor is watched doing nothing but watching its processes. */
const IDLE_MS = 5_000;

function heapMB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

const openFds = () => readdirSync('/proc/self/fd').length;

/** create → start resolved, one container after another; milliseconds each. */
async function createToRunning(sv: Supervisor, prefix: string, probes = PROBES): Promise<number[]> {
  const timings: number[] = [];
  for (let i = 0; i < probes; i++) {
    const start = performance.now();
    await sv.create({ id: `${prefix}${i}`, process: { args: ['sleep', '600'] } });
    await sv.start(`${prefix}${i}`);
    timings.push(performance.now() - start);
  }
  return timings;
}

/** Median time of `fn(i)` over i in [0, times), in milliseconds. */
function medianMs(times: number, fn: (i: number) => unknown): number {
  const timings: number[] = [];
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    fn(i);
    timings.push(performance.now() - start);
  }
  return median(timings);
}

/**
 * 5,000 concurrently supervised `sleep` processes (BERTH_BENCH_PROCESSES): heap,
 * list() and get(), the monitors' memory as PSS, the supervisor's open fds,
 * what it costs to watch them idle, and create → running with all of them
 * running beside the same with one. Filled 16 at a time, in tenths: a start
 * rate that falls from the first tenth to the last would be growth faster than
 * linear.
 */
export async function scaleBench(): Promise<Result[]> {
  const scratch = scratchDir('scale');
  const sv = await Supervisor.open({ stateDir: scratch.dir, logger: pino({ level: 'silent' }) });
  try {
    await createToRunning(sv, 'warm-', 1); // the zygote starts with the first process
    const heapBefore = heapMB();
    const fdsBefore = openFds();
    const first = median(await createToRunning(sv, 'first-'));
    const tenth = Math.max(1, Math.floor(PROCESSES / 10));
    const rates: number[] = [];
    for (let from = 0; from < PROCESSES; from += tenth) {
      const count = Math.min(tenth, PROCESSES - from);
      const seconds = await pool(count, CONCURRENCY, async (i) => {
        await sv.create({ id: `s${from + i}`, process: { args: ['sleep', '600'] } });
        await sv.start(`s${from + i}`);
      });
      rates.push(count / seconds);
    }
    const last = median(await createToRunning(sv, 'last-'));
    const containers = sv.list();
    const running = containers.filter((c) => c.status === 'running').length;
    const heap = heapMB();
    const fds = openFds();
    const listMs = medianMs(21, () => sv.list());
    const ids = containers.map((c) => c.id);
    const getMs = medianMs(1_001, (i) => sv.get(ids[(i * 7919) % ids.length]!));
    const monitors = ids.map((id) => readRecord(join(scratch.dir, 'containers', id), 'init').started!.monitorPid);
    const memory = monitors.map(smapsKB);
    const pssMB = memory.reduce((sum, m) => sum + m.pss, 0) / 1024;
    const rssMB = memory.reduce((sum, m) => sum + m.rss, 0) / 1024;
    const cpuBefore = process.cpuUsage();
    await new Promise((done) => setTimeout(done, IDLE_MS));
    const cpu = process.cpuUsage(cpuBefore);
    const idleCpu = (cpu.user + cpu.system) / 1000 / IDLE_MS;
    const closeStart = performance.now();
    await sv.close();
    const closeMs = performance.now() - closeStart;
    const n = fmt(running);
    return [
      {
        name: `${n} supervised processes: heap used (after gc)`,
        value: `${fmt(heap, 1)} MB`,
        comparison: `${fmt(heapBefore, 1)} MB with ${PROBES + 1} running`,
        goal: '≤ 200 MB',
        met: heap <= 200 && running === PROCESSES + 2 * PROBES + 1,
      },
      { name: `${n} supervised processes: list() (median of 21)`, value: `${fmt(listMs, 2)} ms`, comparison: '', goal: '≤ 10 ms', met: listMs <= 10 },
      { name: `${n} supervised processes: get(id) (median of 1,001)`, value: `${fmt(getMs, 4)} ms`, comparison: '', goal: '≤ 0.1 ms', met: getMs <= 0.1 },
      {
        name: `${n} supervised processes: create → running, sequential (median of ${PROBES})`,
        value: `${fmt(last, 1)} ms with ${n} running`,
        comparison: `${fmt(first, 1)} ms with 1 to ${PROBES} running → ${fmt(last / first, 2)}×`,
        goal: '≤ 2×',
        met: last / first <= 2,
      },
      {
        name: `${n} supervised processes: starts/s, ${CONCURRENCY} at a time, by tenth of the fill`,
        value: `last tenth ${fmt(rates.at(-1)!)}/s`,
        comparison: `first tenth ${fmt(rates[0]!)}/s → ${fmt(rates.at(-1)! / rates[0]!, 2)}×; all: ${rates.map((r) => fmt(r)).join(' ')}`,
        goal: 'linear (≥ 0.5×)',
        met: rates.at(-1)! / rates[0]! >= 0.5,
      },
      {
        name: `${n} berth-shim monitors: memory, summed over all of them`,
        value: `PSS ${fmt(pssMB, 1)} MB (${fmt((pssMB * 1024) / monitors.length, 0)} kB each)`,
        comparison: `RSS ${fmt(rssMB, 1)} MB, which counts shared pages once per monitor`,
        goal: 'reported',
        met: true,
      },
      {
        name: `${n} supervised processes: the supervisor's open fds, and its CPU while they run (${IDLE_MS / 1000} s idle)`,
        value: `${fds} fds; ${fmt(idleCpu * 100, 1)}% of a core`,
        comparison: `${fdsBefore} fds with ${PROBES + 1} running`,
        goal: 'fds not per process',
        met: fds - fdsBefore < 10,
      },
      { name: `${n} supervised processes: close() (kills them all, journals every exit)`, value: `${fmt(closeMs)} ms`, comparison: '', goal: 'reported', met: true },
    ];
  } finally {
    await sv.close();
    scratch.remove();
  }
}
