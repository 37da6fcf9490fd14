import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { Observable } from 'rxjs';
import type { BerthEvent, ContainerInfo, ContainerStatus } from '../../types.js';
import { processMetrics } from './process-metrics.js';

/** What the gauges read at each scrape. */
export interface MetricsSource {
  containers(): ContainerInfo[];
  journalRows(): number;
}

/** The API calls whose latency is a histogram, and its name. */
const TIMED = {
  create: 'berth_container_create_seconds',
  start: 'berth_container_start_seconds',
  exec: 'berth_process_exec_seconds',
  delete: 'berth_container_delete_seconds',
} as const;
export type TimedCall = keyof typeof TIMED;

const STATUSES: readonly ContainerStatus[] = ['creating', 'created', 'running', 'paused', 'stopping', 'exited'];

/** From a millisecond to a minute: process starts take milliseconds, runc's a tenth of a second and more. */
const CALL_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const COMMIT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/**
 * How an exit ended, as the `class` label of berth_exits_total: 0; 1-127 (a code
 * of its own); 128-255 (a code of its own that high, no signal involved);
 * signal (killed by one: `signal` is set); 255-unknown (berth could not learn
 * it: `reason` says why, e.g. shim-lost).
 */
export function exitClass(event: Pick<BerthEvent, 'status' | 'signal' | 'reason'>): string {
  const status = event.status ?? 255;
  if (event.signal !== undefined) return 'signal';
  if (status === 255 && event.reason !== undefined) return '255-unknown';
  if (status === 0) return '0';
  return status < 128 ? '1-127' : '128-255';
}

const seconds = (sinceMs: number) => (performance.now() - sinceMs) / 1000;

/**
 * A supervisor's Prometheus metrics, in a registry of its own (two supervisors
 * in one process never clash). Everything is fed from hooks the supervisor
 * calls at a few points — a request sent and settled, a journal commit, a
 * stream subscribed — and gauges are read at scrape time, so nothing else in
 * berth knows about metrics.
 */
export class SupervisorMetrics {
  readonly registry = new Registry();
  private readonly calls: Record<TimedCall, Histogram>;
  private readonly exitToJournal: Histogram;
  private readonly commits: Histogram;
  private readonly exits: Counter<'class'>;
  private readonly shimLost: Counter;
  private readonly restore: Gauge;
  private subscribers = 0;
  /** Exits journaled by restore happened while no supervisor ran: their delay says nothing of berth. */
  private serving = false;
  /** Set once the supervisor exists (see `watch`); gauges read nothing before. */
  private source: MetricsSource = { containers: () => [], journalRows: () => 0 };

  constructor(private readonly withProcessMetrics: boolean) {
    const metrics = this;
    const registers = [this.registry];
    this.calls = Object.fromEntries(
      Object.entries(TIMED).map(([call, name]) => [
        call,
        new Histogram({ name, help: `Seconds a successful ${call} call took, until its journal row was committed`, buckets: CALL_BUCKETS, registers }),
      ]),
    ) as Record<TimedCall, Histogram>;
    this.exitToJournal = new Histogram({
      name: 'berth_exit_journal_seconds',
      help: 'Seconds from a process exit to its journal row being committed',
      buckets: CALL_BUCKETS,
      registers,
    });
    this.commits = new Histogram({ name: 'berth_journal_commit_seconds', help: 'Seconds one group commit of the journal took', buckets: COMMIT_BUCKETS, registers });
    this.exits = new Counter({ name: 'berth_exits_total', help: 'Process exits journaled, by class: 0, 1-127, 128-255, signal, 255-unknown', labelNames: ['class'], registers });
    for (const label of ['0', '1-127', '128-255', 'signal', '255-unknown']) this.exits.inc({ class: label }, 0);
    this.shimLost = new Counter({
      name: 'berth_shim_lost_total',
      help: "Exits berth could not learn because the process's monitor (berth-shim or conmon) died first",
      registers,
    });
    this.restore = new Gauge({ name: 'berth_restore_duration_seconds', help: 'Seconds the last open took to restore the state dir', registers });
    new Gauge({
      name: 'berth_containers',
      help: 'Containers in the registry, by status',
      labelNames: ['status'],
      registers,
      collect() {
        const counts = new Map<string, number>(STATUSES.map((s) => [s, 0]));
        for (const c of metrics.source.containers()) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
        for (const [status, n] of counts) this.set({ status }, n);
      },
    });
    new Gauge({
      name: 'berth_processes_running',
      help: 'Processes (inits and execs) running',
      registers,
      collect() {
        this.set(metrics.source.containers().reduce((n, c) => n + c.processes.filter((p) => p.status === 'running').length, 0));
      },
    });
    new Gauge({
      name: 'berth_event_subscribers',
      help: 'Event streams subscribed',
      registers,
      collect() {
        this.set(metrics.subscribers);
      },
    });
    new Gauge({
      name: 'berth_journal_rows',
      help: 'Rows kept in the journal',
      registers,
      collect() {
        this.set(metrics.source.journalRows());
      },
    });
  }

  /** What the gauges read from now on. */
  watch(source: MetricsSource): void {
    this.source = source;
  }

  /** A timer for an API call: call the result when it has succeeded. */
  startCall(call: string): (() => void) | undefined {
    if (!Object.hasOwn(TIMED, call)) return undefined;
    const began = performance.now();
    return () => this.calls[call as TimedCall].observe(seconds(began));
  }

  /** A journal commit took `elapsedSeconds`. */
  committed(elapsedSeconds: number): void {
    this.commits.observe(elapsedSeconds);
  }

  /** Rows the journal has just committed (and announced). */
  journaled(events: readonly BerthEvent[]): void {
    const now = Date.now();
    for (const event of events) {
      if (event.type !== 'exit') continue;
      this.exits.inc({ class: exitClass(event) });
      if (event.reason === 'shim-lost') this.shimLost.inc();
      if (this.serving) this.exitToJournal.observe(Math.max(0, now - event.time.getTime()) / 1000);
    }
  }

  /** The open's restore is over, after `elapsedSeconds`: from here on exits are live. */
  restored(elapsedSeconds: number): void {
    this.restore.set(elapsedSeconds);
    this.serving = true;
  }

  /** The stream, counted in berth_event_subscribers while subscribed. */
  counted<T>(stream: Observable<T>): Observable<T> {
    return new Observable<T>((subscriber) => {
      this.subscribers++;
      const subscription = stream.subscribe(subscriber);
      return () => {
        this.subscribers--;
        subscription.unsubscribe();
      };
    });
  }

  /** The text exposition: this supervisor's metrics, and the process's if it asked for them. */
  async text(): Promise<string> {
    const own = await this.registry.metrics();
    return this.withProcessMetrics ? own + (await processMetrics().metrics()) : own;
  }
}
