import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { Supervisor } from '../src/index.js';
import { busyboxBundle } from '../test/support/busybox-bundle.js';
import { fmt, median, scratchDir, type Result } from './util.js';

const run = promisify(execFile);
const ROUNDS = 25;
const CONCURRENT = 20;
const BURST_ROUNDS = 3;

async function timed(task: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await task();
  return performance.now() - start;
}

/**
 * Median times of tasks measured in turn, one round after another, so that a
 * load that comes and goes on the machine weighs on each of them alike.
 */
async function interleaved<K extends string>(tasks: Record<K, (i: number) => Promise<unknown>>, rounds = ROUNDS): Promise<Record<K, number>> {
  const entries = Object.entries(tasks) as [K, (i: number) => Promise<unknown>][];
  for (const [, task] of entries) await task(-1); // warm-up
  const times = new Map<K, number[]>(entries.map(([name]) => [name, []]));
  for (let i = 0; i < rounds; i++) for (const [name, task] of entries) times.get(name)!.push(await timed(() => task(i)));
  return Object.fromEntries(entries.map(([name]) => [name, median(times.get(name)!)])) as Record<K, number>;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${child.spawnargs.join(' ')} exited with ${code}`))));
  });
}

/** A containerd 1.6 of its own (Debian's), with a temporary root, state and socket. */
async function startContainerd(dir: string): Promise<{ socket: string; stop: () => void }> {
  const socket = join(dir, 'containerd.sock');
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'config.toml');
  writeFileSync(config, `version = 2\nroot = "${dir}/root"\nstate = "${dir}/state"\n[grpc]\n  address = "${socket}"\n`);
  const daemon: ChildProcess = spawn('containerd', ['--config', config], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((done) => setTimeout(done, 50));
  return { socket, stop: () => daemon.kill('SIGKILL') };
}

/**
 * One container lifecycle — create → start → exit of `true` → delete — of the
 * same busybox bundle through berth (runc + conmon), bare `runc run` (which
 * deletes on exit), the bare runc create / start / delete calls berth makes, and
 * containerd's `ctr run --rm --rootfs`; then 20 at once through berth and bare runc;
 * then an exec of `true` in a running container, to its exit (journaled, for
 * berth), through berth and bare `runc exec`.
 */
export async function containersBench(): Promise<Result[]> {
  const scratch = scratchDir('containers');
  const bundle = busyboxBundle(scratch.dir, 'bundle', { args: ['/bin/true'] });
  const rootfs = (JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as { root: { path: string } }).root.path;
  const runcRoot = join(scratch.dir, 'bare-runc');
  mkdirSync(runcRoot);
  const sv = await Supervisor.open({ stateDir: join(scratch.dir, 'berth'), runtime: 'runc', logger: pino({ level: 'silent' }) });
  const ctd = await startContainerd(join(scratch.dir, 'containerd'));
  try {
    const phases: Record<'create' | 'start' | 'wait' | 'delete', number[]> = { create: [], start: [], wait: [], delete: [] };
    const berthLifecycle = async (id: string) => {
      phases.create.push(await timed(() => sv.create({ id, bundle })));
      phases.start.push(await timed(() => sv.start(id)));
      phases.wait.push(await timed(() => sv.wait(id)));
      phases.delete.push(await timed(() => sv.delete(id)));
    };
    // `runc run` creates, starts, waits and deletes (without --keep).
    const runcLifecycle = (id: string) => run('runc', ['--root', runcRoot, 'run', '--bundle', bundle, id]);
    // The runc calls berth itself makes, back to back with nothing around them: the floor for separate create and start.
    const runcSteps = async (id: string) => {
      // No pipes: the container's process would inherit and hold them open past `runc create`.
      await exited(spawn('runc', ['--root', runcRoot, 'create', '--bundle', bundle, '--pid-file', join(scratch.dir, `${id}.pid`), id], { stdio: 'ignore' }));
      await run('runc', ['--root', runcRoot, 'start', id]);
      await run('runc', ['--root', runcRoot, 'delete', '--force', id]);
    };
    const ctrLifecycle = (id: string) => run('ctr', ['--address', ctd.socket, '-n', 'bench', 'run', '--rm', '--rootfs', rootfs, id, '/bin/true']);

    const { berth, bare, steps, ctr } = await interleaved({
      berth: (i) => berthLifecycle(`b${i}`),
      bare: (i) => runcLifecycle(`r${i}`),
      steps: (i) => runcSteps(`s${i}`),
      ctr: (i) => ctrLifecycle(`c${i}`),
    });
    const breakdown = Object.entries(phases)
      .map(([phase, times]) => `${phase} ${fmt(median(times), 1)}`)
      .join(', ');
    const ids = Array.from({ length: CONCURRENT }, (_, i) => i);
    const bursts = await interleaved(
      {
        berth: (round) => Promise.all(ids.map((i) => berthLifecycle(`bb${round}-${i}`))),
        bare: (round) => Promise.all(ids.map((i) => runcLifecycle(`rb${round}-${i}`))),
      },
      BURST_ROUNDS,
    );

    const sleeper = busyboxBundle(scratch.dir, 'sleeper', { args: ['/bin/sleep', '1000000'] });
    await sv.create({ id: 'exec-host', bundle: sleeper });
    await sv.start('exec-host');
    await exited(spawn('runc', ['--root', runcRoot, 'create', '--bundle', sleeper, 'exec-host'], { stdio: 'ignore' }));
    await run('runc', ['--root', runcRoot, 'start', 'exec-host']);
    const execs = await interleaved({
      berth: (i) => sv.runExec('exec-host', { execId: `e${i}`, args: ['/bin/true'] }),
      bare: () => run('runc', ['--root', runcRoot, 'exec', 'exec-host', '/bin/true']),
    });
    await sv.delete('exec-host', { force: true });
    await run('runc', ['--root', runcRoot, 'delete', '--force', 'exec-host']);
    return [
      {
        name: `container lifecycle, busybox \`true\` (median of ${ROUNDS}) vs bare \`runc run\``,
        value: `${fmt(berth, 1)} ms`,
        comparison:
          `bare runc ${fmt(bare, 1)} ms → ${fmt(berth / bare, 2)}×; bare runc create + start + delete ${fmt(steps, 1)} ms → ` +
          `${fmt(berth / steps, 2)}×; berth's phases (median ms): ${breakdown}`,
        goal: '≤ 1.5× bare runc',
        met: berth / bare <= 1.5,
      },
      {
        name: `container lifecycle vs containerd 1.6 (ctr run --rm --rootfs, median of ${ROUNDS})`,
        value: `${fmt(berth, 1)} ms`,
        comparison: `containerd ${fmt(ctr, 1)} ms → ${fmt(berth / ctr, 2)}×`,
        goal: '≤ 0.5× containerd',
        met: berth / ctr <= 0.5,
      },
      {
        name: `${CONCURRENT} container lifecycles at once: total time (median of ${BURST_ROUNDS})`,
        value: `${fmt(bursts.berth)} ms`,
        comparison: `bare runc ${fmt(bursts.bare)} ms → ${fmt(bursts.berth / bursts.bare, 2)}×`,
        goal: '≤ 1.5× bare runc',
        met: bursts.berth / bursts.bare <= 1.5,
      },
      {
        name: `exec of \`true\` in a running container to its exit, journaled (median of ${ROUNDS}) vs bare \`runc exec\``,
        value: `${fmt(execs.berth, 1)} ms`,
        comparison: `bare runc exec ${fmt(execs.bare, 1)} ms → ${fmt(execs.berth / execs.bare, 2)}×`,
        goal: '≤ 1.3× bare runc exec',
        met: execs.berth / execs.bare <= 1.3,
      },
    ];
  } finally {
    await sv.close();
    ctd.stop();
    scratch.remove();
  }
}
