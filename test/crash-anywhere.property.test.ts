/**
 * Fault injection: a supervisor in a child process is killed with SIGKILL at a
 * random instant of a random workload (create, start, exec, signal, pause,
 * resume, delete; some requests in flight at once; in some workloads every
 * container restarts on failure), on both runtimes. After each
 * reopen the whole journal keeps every guarantee, every exit is real and
 * published once, and what runs is exactly what the registry says runs.
 *
 * Every process a workload starts carries BERTH_FAULT_TAG=<run>/<container>/<process>
 * in its environment (inherited by its children), and the crashed supervisors and
 * their shims carry BERTH_FAULT_TAG=<run>: leftovers are found in /proc, whatever
 * the supervisor believes.
 *
 * BERTH_FAULT_RUNS (cases per runtime), BERTH_FAULT_CYCLES (kill/reopen cycles of
 * the repeated variant) and BERTH_FAULT_SEED (replay a reported seed) are for
 * longer or replayed runs; BERTH_FAULT_SHRINK=1 shrinks a counterexample (slow:
 * every attempt runs real processes). The instant of a kill is real time, so a
 * seed replays the workload and kill point, not the exact interleaving.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { pino } from 'pino';
import { describe, expect } from 'vitest';
import { Supervisor, type BerthEvent, type ContainerInfo } from '../src/index.js';
import { defaultCgroupParent, removeCgroupParent } from '../src/io/runc/runc-bundle.js';
import { checkJournal } from './ordering.js';
import { envOf, liveProcesses, onCleanup, propertyBudgetMs, storedEvents, tempDir, type LiveProcess } from './helpers.js';
import { runUntilKilled, type KillPoint } from './support/crash.js';
import { canRunContainers } from './support/busybox-bundle.js';

type RuntimeName = 'process' | 'runc';
const TAG = 'BERTH_FAULT_TAG';

/** What a process runs: `sleep 1000`, or `ms` then `exit code`; with `setsid`, it first leaves a grandchild in a session of its own. */
interface Program {
  forever: boolean;
  ms: number;
  code: number;
  setsid: boolean;
}

type Op =
  | { op: 'exec'; c: number; program: Program; inFlight: boolean }
  | { op: 'signal'; c: number; target: number; sig: 'SIGTERM' | 'SIGKILL'; inFlight: boolean }
  | { op: 'pause' | 'resume'; c: number; inFlight: boolean }
  | { op: 'delete'; c: number; force: boolean; inFlight: boolean };

interface Workload {
  containers: { init: Program; start: boolean; inFlight: boolean }[];
  ops: Op[];
  /** Every container restarts on failure (RESTART_POLICY), so crashes land in restarts too. */
  restart: boolean;
}

/** Short waits, so that restarts happen within a case; bounded, so that a case ends. */
const RESTART_POLICY = JSON.stringify({ policy: 'on-failure', maxRetries: 2, backoffMs: { initial: 50, max: 200 } });

const program: fc.Arbitrary<Program> = fc.record({
  forever: fc.boolean(),
  ms: fc.integer({ min: 0, max: 400 }),
  code: fc.integer({ min: 0, max: 3 }),
  setsid: fc.nat({ max: 3 }).map((n) => n === 0),
});

/** `inFlight` steps are fired without waiting, so bursts of requests are in flight when the kill lands. */
const op = (containers: number): fc.Arbitrary<Op> => {
  const c = fc.nat({ max: containers - 1 });
  const inFlight = fc.boolean();
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('exec' as const), c, program, inFlight }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('signal' as const), c, target: fc.nat({ max: 5 }), sig: fc.constantFrom('SIGTERM' as const, 'SIGKILL' as const), inFlight }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('pause' as const, 'resume' as const), c, inFlight }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), c, force: fc.boolean(), inFlight }) },
  );
};

const workload = (containers: number, ops: number): fc.Arbitrary<Workload> =>
  fc.record({
    containers: fc.array(fc.record({ init: program, start: fc.nat({ max: 5 }).map((n) => n > 0), inFlight: fc.boolean() }), { minLength: 1, maxLength: containers }),
    ops: fc.array(op(containers), { maxLength: ops }),
    restart: fc.nat({ max: 2 }).map((n) => n === 0),
  });

/** Any instant: while the state dir is being restored, right after, or some ms after any step, mid-burst included. */
const killPoint = (steps: number): fc.Arbitrary<KillPoint> =>
  fc.record({
    after: fc.oneof(
      { weight: 1, arbitrary: fc.constantFrom('OPENING' as const, 'OPEN' as const) },
      { weight: 4, arbitrary: fc.nat({ max: steps - 1 }).map((n) => `STEP ${n}` as const) },
    ),
    delayMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 300 })),
  });

const command = (p: Program) => `${p.setsid ? 'setsid sleep 1000 & ' : ''}${p.forever ? 'sleep 1000' : `sleep ${p.ms / 1000}; exit ${p.code}`}`;

interface Plan {
  steps: string[];
  /** Every status each process ("c0/e1") may end with: its own exit code, or the signals the workload (or init's end, a forced delete, close) gives it. */
  statuses: Map<string, Set<number>>;
}

/** The crash child's steps for a workload: each container is created where the workload first touches it. */
function plan(w: Workload): Plan {
  const steps: string[] = [];
  const statuses = new Map<string, Set<number>>();
  const execs = w.containers.map(() => 0);
  const may = (key: string, p: Program) => statuses.set(key, new Set([137, ...(p.forever ? [] : [p.code])]));
  const touch = (c: number) => {
    if (statuses.has(`c${c}/init`)) return;
    const { init, start, inFlight } = w.containers[c]!;
    may(`c${c}/init`, init);
    steps.push(`create:c${c}:${command(init)}`);
    if (start) steps.push(`${inFlight ? '&' : ''}start:c${c}`);
  };
  for (const o of w.ops) {
    const c = o.c % w.containers.length;
    const id = `c${c}`;
    touch(c);
    const fire = o.inFlight ? '&' : '';
    if (o.op === 'exec') {
      const execId = `e${execs[c]!++}`;
      may(`${id}/${execId}`, o.program);
      steps.push(`${fire}exec:${id}:${execId}:${command(o.program)}`);
    } else if (o.op === 'signal') {
      const n = o.target % (execs[c]! + 1);
      const target = n === 0 ? 'init' : `e${n - 1}`;
      if (o.sig === 'SIGTERM') statuses.get(`${id}/${target}`)!.add(143);
      steps.push(`${fire}signal:${id}:${target}:${o.sig}`);
    } else if (o.op === 'delete') steps.push(`${fire}delete:${id}${o.force ? ':force' : ''}`);
    else steps.push(`${fire}${o.op}:${id}`);
  }
  w.containers.forEach((_, c) => touch(c));
  return { steps, statuses };
}

interface Run {
  runtime: RuntimeName;
  stateDir: string;
  /** This run's tag: its processes' BERTH_FAULT_TAG starts with it. */
  tag: string;
  plan: Plan;
  /** The crash child's environment: the tag, and the restart policy if the workload has one. */
  env: Record<string, string>;
}

const open = (run: Run) => Supervisor.open({ stateDir: run.stateDir, runtime: run.runtime, logger: pino({ level: 'silent' }) });

/** A fresh state dir and tag, swept clean after the test whatever happened. */
function newRun(runtime: RuntimeName, w: Workload): Run {
  const tag = `fault-${randomUUID()}`;
  const env = { [TAG]: tag, ...(w.restart ? { BERTH_RESTART: RESTART_POLICY } : {}) };
  const run: Run = { runtime, stateDir: tempDir('berth-fault-'), tag, plan: plan(w), env };
  onCleanup(() => sweep(run));
  return run;
}

/** The workload's processes (tag `<run>/<container>/<process>`) that still run. */
const workloadProcesses = (run: Run) => liveProcesses().filter((p) => envOf(p, TAG)?.startsWith(`${run.tag}/`));
/** The crashed supervisors' own processes that still run: zygotes, monitors, conmons and what they run (tag `<run>`). */
const shimProcesses = (run: Run) => liveProcesses().filter((p) => envOf(p, TAG) === run.tag);
/** conmons whose command line names this state dir. */
const conmons = (run: Run) => liveProcesses().filter((p) => p.args[0]?.endsWith('conmon') && p.args.some((a) => a.includes(run.stateDir)));
const conmonContainer = (p: LiveProcess) => p.args[p.args.indexOf('-c') + 1];
const show = (procs: LiveProcess[]) => procs.map((p) => `${p.pid} [${envOf(p, TAG) ?? ''}] ${p.args.join(' ')}`);

/** runc's own list of the containers in this state dir. */
function runcList(run: Run): { id: string; status: string }[] {
  const out = execFileSync('runc', ['--root', join(run.stateDir, 'runc'), 'list', '--format', 'json'], { encoding: 'utf8' });
  return (JSON.parse(out) as { id: string; status: string }[] | null) ?? [];
}

/**
 * What `find` returns once things have settled: a process killed an instant ago
 * may not be reaped yet, so a non-empty answer is asked again for a few seconds.
 * A real leftover is still there at the end.
 */
async function settled<T>(find: () => T[], ms = 5_000): Promise<T[]> {
  const deadline = Date.now() + ms;
  let found = find();
  while (found.length > 0 && Date.now() < deadline) {
    await new Promise((done) => setTimeout(done, 200));
    found = find();
  }
  return found;
}

/** Fails with `message` unless the process's exit is journaled within a few seconds. */
async function exitsSoon(sv: Supervisor, id: string, processId: string, message: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${message}, and no exit was journaled within 10 s`)), 10_000)));
  await Promise.race([sv.wait(id, processId), late]).finally(() => clearTimeout(timer));
}

/** Every exit has a status its process can really have: no invented 0, 255 only with a reason. */
function checkStatuses(events: BerthEvent[], run: Run): void {
  for (const exit of events.filter((e) => e.type === 'exit')) {
    const what = JSON.stringify(exit);
    if (exit.status === 255) {
      expect(exit.reason, `${what}: 255 without a reason`).toBeTruthy();
      continue;
    }
    const may = run.plan.statuses.get(`${exit.id}/${exit.processId}`);
    expect(may, `${what}: an exit of a process the workload never asked for`).toBeDefined();
    expect([...may!], `${what}: a status this process cannot have`).toContain(exit.status);
  }
}

/** The whole journal, and the registry against what really runs. */
async function checkReopened(sv: Supervisor, run: Run): Promise<void> {
  const events = await storedEvents(sv);
  checkJournal(events);
  checkStatuses(events, run);
  const processOf = (id: string, processId: string) => sv.list().find((c) => c.id === id)?.processes.find((p) => p.id === processId);
  const isIt = (p: LiveProcess, id: string, processId: string, pid: number | undefined) => p.pid === pid && envOf(p, TAG) === `${run.tag}/${id}/${processId}`;

  const live = workloadProcesses(run);
  for (const container of sv.list()) {
    for (const proc of container.processes) {
      const where = `${container.id}/${proc.id} (pid ${proc.pid})`;
      const alive = live.some((p) => isIt(p, container.id, proc.id, proc.pid));
      if (proc.status === 'running' && !alive) await exitsSoon(sv, container.id, proc.id, `the registry says ${where} runs, but it does not`);
      if (proc.status === 'exited') expect(alive, `${where} journaled as exited (${proc.exitStatus}) but still runs: an invented exit`).toBe(false);
    }
  }
  // A process runs only if the registry says so, or it is left by an exec that ended in a container still running (as in a PID namespace).
  const unknown = (p: LiveProcess) => {
    const [id, processId] = envOf(p, TAG)!.slice(run.tag.length + 1).split('/') as [string, string];
    const proc = processOf(id, processId);
    return !(proc?.status === 'running' || (proc?.status === 'exited' && processOf(id, 'init')?.status === 'running'));
  };
  const registry = () => JSON.stringify(sv.list().map((c) => [c.id, c.status, c.processes.map((p) => `${p.id}:${p.status}`)]));
  expect(show(await settled(() => workloadProcesses(run).filter(unknown))), `running, but not as the registry says: ${registry()}`).toEqual([]);
  if (run.runtime !== 'runc') return;
  const known = (id: string | undefined) => sv.list().some((c) => c.id === id);
  expect(show(await settled(() => conmons(run).filter((p) => !known(conmonContainer(p))))), 'conmon of a container the registry does not know').toEqual([]);
  const strays = () => runcList(run).filter((r) => !known(r.id) || (['running', 'paused'].includes(r.status) && processOf(r.id, 'init')?.status !== 'running'));
  expect(await settled(strays), `runc containers the registry does not know, or knows as ended: ${registry()}`).toEqual([]);
}

/** After close(), nothing of the run is left, except what a container never started keeps (runc: its conmon and runc init). */
async function checkClosed(registry: ContainerInfo[], run: Run): Promise<void> {
  expect(show(await settled(() => workloadProcesses(run), 10_000)), 'still running after close()').toEqual([]);
  const created = new Set(registry.filter((c) => c.status === 'created').map((c) => c.id));
  if (run.runtime === 'process') {
    expect(show(await settled(() => shimProcesses(run), 10_000)), 'berth-shim processes alive after close()').toEqual([]);
    return;
  }
  expect(show(await settled(() => conmons(run).filter((p) => !created.has(conmonContainer(p)!)), 10_000)), 'conmon alive after close()').toEqual([]);
  expect(runcList(run).filter((r) => !(r.status === 'stopped' || (r.status === 'created' && created.has(r.id)))), 'runc containers after close()').toEqual([]);
}

/** Nothing started was lost: after a clean close every started process has its exit. */
function checkAllEnded(events: BerthEvent[]): void {
  for (const start of events.filter((e) => e.type === 'start-container' || e.type === 'start-process')) {
    const processId = start.processId ?? 'init';
    const ended = events.some((e) => e.type === 'exit' && e.id === start.id && (e.processId ?? 'init') === processId);
    expect(ended, `${start.id}/${processId} started and never exited`).toBe(true);
  }
}

/** close() within a minute, or the failure says it hung (a wedged queue, a kill that never lands). */
async function closeWithin(sv: Supervisor, options: { leaveRunning?: boolean } = {}): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('close() did not finish within 60 s')), 60_000)));
  await Promise.race([sv.close(options), hung]).finally(() => clearTimeout(timer));
}

/** The end of every run: close, check, reopen, check the whole journal again, delete everything, check nothing is left. */
async function closeAndCheck(sv: Supervisor, run: Run): Promise<void> {
  const registry = sv.list();
  await closeWithin(sv);
  await checkClosed(registry, run);
  const again = await open(run);
  // What close() left: a restart policy may start init again once this open has restored it.
  const restoredSeq = again.lastSeq;
  try {
    const events = await storedEvents(again);
    checkJournal(events);
    checkStatuses(events, run);
    checkAllEnded(events.filter((e) => e.seq <= restoredSeq));
    for (const container of again.list()) await again.delete(container.id, { force: true });
  } finally {
    await closeWithin(again);
  }
  expect(show(await settled(() => [...workloadProcesses(run), ...conmons(run), ...shimProcesses(run)], 10_000)), 'alive after every container was deleted').toEqual([]);
  if (run.runtime === 'runc') expect(runcList(run), 'runc containers after every container was deleted').toEqual([]);
}

/** Whatever a failed run left: its processes killed (by pid, just seen with its tag), runc's containers removed. */
async function sweep(run: Run): Promise<void> {
  for (const p of [...workloadProcesses(run), ...shimProcesses(run), ...conmons(run)]) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  if (run.runtime !== 'runc') return;
  for (const { id } of runcList(run)) {
    try {
      execFileSync('runc', ['--root', join(run.stateDir, 'runc'), 'delete', '--force', id], { stdio: 'ignore' });
    } catch {
      // gone meanwhile
    }
  }
  removeCgroupParent(defaultCgroupParent(run.stateDir));
}

/** Runs `body`; a failure names the steps, so a report shows the workload as the child ran it. */
async function explained(run: Run, body: () => Promise<void>, progress: () => string): Promise<void> {
  try {
    await body();
  } catch (err) {
    (err as Error).message += `\n  runtime ${run.runtime}, state dir ${run.stateDir}\n  steps: ${JSON.stringify(run.plan.steps)}\n  ${progress()}`;
    throw err;
  }
}

const RUNTIMES = [
  { name: 'process' as const, runs: 12, available: true },
  { name: 'runc' as const, runs: 6, available: canRunContainers() || Boolean(process.env.CI) },
];
const runsOf = (runs: number) => Number(process.env.BERTH_FAULT_RUNS ?? runs);
const CYCLES = Number(process.env.BERTH_FAULT_CYCLES ?? 24);
const params = (numRuns: number) => ({
  numRuns,
  endOnFailure: process.env.BERTH_FAULT_SHRINK !== '1',
  ...(process.env.BERTH_FAULT_SEED ? { seed: Number(process.env.BERTH_FAULT_SEED) } : {}),
});

/** A workload and a kill point inside it. */
const killedWorkload = workload(3, 8).chain((w) => fc.tuple(fc.constant(w), killPoint(plan(w).steps.length)));

for (const runtime of RUNTIMES) {
  describe.skipIf(!runtime.available)(`a supervisor killed at any instant (${runtime.name} runtime, real SIGKILL)`, () => {
    const runs = runsOf(runtime.runs);
    test.prop([killedWorkload], params(runs))('after reopen: every guarantee, real exits once, nothing running unknown', async ([w, kill]) => {
      const run = newRun(runtime.name, w);
      let lines: string[] = [];
      await explained(run, async () => {
        lines = await runUntilKilled(run.stateDir, run.plan.steps, kill, run.runtime, run.env);
        const sv = await open(run);
        onCleanup(() => sv.close({ leaveRunning: true }));
        await checkReopened(sv, run);
        await closeAndCheck(sv, run);
      }, () => `killed ${kill.delayMs} ms after ${kill.after}; the child said: ${lines.join(' | ')}`);
    }, Math.max(propertyBudgetMs(runs), runs * 15_000));

    // One state dir killed again and again: each reopen continues the workload where the last one was killed.
    test.prop([workload(5, 40), fc.array(killPoint(5), { minLength: CYCLES, maxLength: CYCLES })], params(1))(
      `${CYCLES} kill/reopen cycles on one state dir: the whole journal checked after each`,
      async (w, kills) => {
        const run = newRun(runtime.name, w);
        const history: string[] = [];
        await explained(run, async () => {
          let next = 0;
          for (const kill of kills) {
            const steps = run.plan.steps.slice(next);
            const lines = await runUntilKilled(run.stateDir, steps, kill, run.runtime, run.env);
            const done = Math.max(-1, ...lines.map((line) => Number(/^STEP (\d+) /.exec(line)?.[1] ?? -1)));
            history.push(`from step ${next}, killed ${kill.delayMs} ms after ${kill.after}: ${lines.join(' | ')}`);
            next += done + 1;
            const sv = await open(run);
            try {
              await checkReopened(sv, run);
            } finally {
              await closeWithin(sv, { leaveRunning: true });
            }
          }
          const sv = await open(run);
          onCleanup(() => sv.close({ leaveRunning: true }));
          await checkReopened(sv, run);
          await closeAndCheck(sv, run);
        }, () => `cycles:\n    ${history.join('\n    ')}`);
      },
      Math.max(propertyBudgetMs(CYCLES), CYCLES * 15_000),
    );
  });
}
