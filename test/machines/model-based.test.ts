import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestModel, getAdjacencyMap } from '@xstate/graph';
import type { AnyStateMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { isBerthError, type Supervisor } from '../../src/index.js';
import { checkOrdering } from '../ordering.js';
import { lifecycleModel, restartModel } from './lifecycle.model.js';
import { openSupervisor, storedEvents, tempDir } from '../helpers.js';
import { busyboxBundle, canRunContainers } from '../support/busybox-bundle.js';

/** A process that runs until its stop file appears, then exits 0 by itself. */
const untilFile = (path: string) => ['sh', '-c', `while [ ! -e '${path}' ]; do sleep 0.01; done`];
/** init: like `untilFile`, but exits 1 when <dir>/init.fail appears instead. */
const initIn = (dir: string) => ['sh', '-c', `while [ ! -e '${dir}/init.stop' ] && [ ! -e '${dir}/init.fail' ]; do sleep 0.01; done; [ ! -e '${dir}/init.fail' ]`];
/** Restarts on failure, after a wait long enough for a test step to look at `restarting`. */
const ON_FAILURE = { policy: 'on-failure', backoffMs: { initial: 300, max: 300 } } as const;
type Policy = typeof ON_FAILURE | undefined;

interface Runtime {
  name: 'process' | 'runc';
  available: boolean;
  /** Creates the container whose init runs until <dir>/init.stop (exit 0) or init.fail (exit 1) appears; returns where execs see <dir>. */
  create(sv: Supervisor, id: string, dir: string, restart: Policy): Promise<string>;
}

const RUNTIMES: Runtime[] = [
  {
    name: 'process',
    available: true,
    create: async (sv, id, dir, restart) => {
      await sv.create({ id, process: { args: initIn(dir) }, ...(restart ? { restart } : {}) });
      return dir;
    },
  },
  {
    name: 'runc',
    available: canRunContainers() || Boolean(process.env.CI),
    create: async (sv, id, dir, restart) => {
      const mounts = [{ source: dir, destination: '/control' }];
      await sv.create({ id, bundle: busyboxBundle(tempDir('berth-bundle-'), id, { args: initIn('/control'), mounts }), ...(restart ? { restart } : {}) });
      return '/control';
    },
  },
];

/** The real supervisor, on a real runtime, driven by the model's events. */
class System {
  readonly dir = tempDir('berth-model-');
  private execs = 0;
  private seenAs = this.dir;
  constructor(
    readonly sv: Supervisor,
    readonly runtime: Runtime,
    readonly id = 'mbt',
  ) {}
  get exec(): string {
    return `e${this.execs}`;
  }
  async create(restart: Policy): Promise<void> {
    this.seenAs = await this.runtime.create(this.sv, this.id, this.dir, restart);
  }
  async newExec(): Promise<void> {
    this.execs++;
    await this.sv.exec(this.id, { execId: this.exec, args: untilFile(`${this.seenAs}/${this.exec}.stop`) });
  }
  stop(processId: string, how: 'stop' | 'fail' = 'stop'): void {
    writeFileSync(join(this.dir, `${processId}.${how}`), '');
  }
  /** Lets the next generation of init run on. */
  unfail(): void {
    rmSync(join(this.dir, 'init.fail'));
  }
  processStatus(processId: string): string | undefined {
    return this.sv.get(this.id).processes.find((p) => p.id === processId)?.status;
  }
}

/** Every shortest and simple path of a model, each sequence of events once. */
function pathsOf(machine: AnyStateMachine) {
  const model = createTestModel(machine);
  const seen = new Set<string>();
  return [...model.getShortestPaths(), ...model.getSimplePaths()].filter((path) => {
    const key = path.steps.map((step) => step.event.type).join(',');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The container + exec lifecycle with no restart policy, and a container with an on-failure one. */
const MODELS = [
  { name: 'the container + exec lifecycle', machine: lifecycleModel, edges: 18, restart: undefined as Policy },
  { name: 'a container restarted on failure', machine: restartModel, edges: 8, restart: ON_FAILURE as Policy },
].map((m) => ({ ...m, paths: pathsOf(m.machine) }));

describe('model-based: the models', () => {
  for (const { name, machine, edges: count, paths } of MODELS) {
    it(`covers every transition of ${name}`, () => {
      const events = machine.events.map((type) => ({ type }));
      const adjacency = Object.values(getAdjacencyMap(machine, { events }));
      const edges = adjacency.flatMap(({ state, transitions }) =>
        Object.values(transitions as Record<string, { state: typeof state; event: { type: string } }>)
          .filter((t) => JSON.stringify(t.state.value) !== JSON.stringify(state.value))
          .map((t) => `${JSON.stringify(state.value)} ${t.event.type}`),
      );
      // Each step holds the state its event led to; the first step is xstate.init.
      const walked = new Set(
        paths.flatMap((path) =>
          path.steps.slice(1).map((step, i) => `${JSON.stringify(path.steps[i]!.state.value)} ${step.event.type}`),
        ),
      );
      expect(edges.length).toBe(count);
      expect(edges.filter((edge) => !walked.has(edge))).toEqual([]);
    });
  }
});

for (const runtime of RUNTIMES) for (const { name, paths, restart } of MODELS) describe.skipIf(!runtime.available)(`model-based: every path of ${name}, on the ${runtime.name} runtime`, () => {
  for (const path of paths) {
    it(path.description, async () => {
      const sut = new System(await openSupervisor({ runtime: runtime.name }), runtime);
      await sut.create(restart);
      await path.test({
        events: {
          START: () => sut.sv.start(sut.id).then(() => undefined),
          EXEC: () => sut.newExec(),
          EXEC_EXIT: async () => {
            sut.stop(sut.exec);
            await sut.sv.wait(sut.id, sut.exec);
          },
          KILL_EXEC: async () => {
            await sut.sv.signal(sut.id, sut.exec, 'SIGKILL');
            expect((await sut.sv.wait(sut.id, sut.exec)).status).toBe(137);
          },
          PAUSE: () => sut.sv.pause(sut.id),
          RESUME: () => sut.sv.resume(sut.id),
          INIT_EXIT: async () => {
            sut.stop('init');
            expect((await sut.sv.wait(sut.id)).status).toBe(0);
          },
          PAUSE_AS_INIT_EXITS: async () => {
            sut.stop('init');
            // Refused if the exit came first or while it was under way; never left unsettled.
            const paused = await sut.sv.pause(sut.id).then(
              () => true,
              (err: unknown) => {
                expect(isBerthError(err, 'invalid-state'), String(err)).toBe(true);
                return false;
              },
            );
            // A pause that came first froze init before it saw its stop file; a resume after the exit is refused.
            if (paused) await sut.sv.resume(sut.id).catch((err: unknown) => expect(isBerthError(err, 'invalid-state'), String(err)).toBe(true));
            expect((await sut.sv.wait(sut.id)).status).toBe(0);
          },
          INIT_FAIL: async () => {
            sut.stop('init', 'fail');
            expect((await sut.sv.wait(sut.id)).status).toBe(1);
            sut.unfail();
          },
          RESTART: async () => {
            const deadline = Date.now() + 10_000;
            while (sut.sv.get(sut.id).status !== 'running' && Date.now() < deadline) await new Promise((done) => setTimeout(done, 20));
          },
          STOP: async () => {
            // Nothing runs to be signalled, but the policy ends: no restart comes.
            const err = await sut.sv.signal(sut.id, 'init', 'SIGKILL').catch((e: unknown) => e);
            expect(isBerthError(err, 'invalid-state'), String(err)).toBe(true);
          },
          KILL: async () => {
            await sut.sv.signal(sut.id, 'init', 'SIGKILL');
            expect((await sut.sv.wait(sut.id)).status).toBe(137);
          },
          DELETE: () => sut.sv.delete(sut.id),
          FORCE_DELETE: () => sut.sv.delete(sut.id, { force: true }),
        },
        states: {
          created: () => expect(sut.sv.get(sut.id).status).toBe('created'),
          'running.idle': () => {
            expect(sut.sv.get(sut.id).status).toBe('running');
            expect(sut.sv.get(sut.id).processes.filter((p) => p.status === 'running').map((p) => p.id)).toEqual(['init']);
          },
          'running.execRunning': () => {
            expect(sut.sv.get(sut.id).status).toBe('running');
            expect(sut.processStatus(sut.exec)).toBe('running');
          },
          'paused.idle': () => expect(sut.sv.get(sut.id).status).toBe('paused'),
          running: () => {
            expect(sut.sv.get(sut.id).status).toBe('running');
            expect(sut.processStatus('init')).toBe('running');
          },
          restarting: () => {
            expect(sut.sv.get(sut.id).status).toBe('restarting');
            expect(sut.sv.get(sut.id).processes.every((p) => p.status === 'exited')).toBe(true);
          },
          'paused.execRunning': () => {
            expect(sut.sv.get(sut.id).status).toBe('paused');
            expect(sut.processStatus(sut.exec)).toBe('running');
          },
          exited: () => {
            const info = sut.sv.get(sut.id);
            expect(info.status).toBe('exited');
            // No exec outlives init.
            expect(info.processes.every((p) => p.status === 'exited')).toBe(true);
          },
          deleted: () => expect(() => sut.sv.get(sut.id)).toThrow(/not found/),
        },
      });
      checkOrdering(await storedEvents(sut.sv));
    });
  }
});
