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

async function timed(task: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await task();
  return performance.now() - start;
}

async function series(task: (i: number) => Promise<unknown>): Promise<number[]> {
  await task(-1); // warm-up
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) times.push(await timed(() => task(i)));
  return times;
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
 * containerd's `ctr run --rm --rootfs`; then 20 at once through berth and bare runc.
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

    const berth = median(await series((i) => berthLifecycle(`b${i}`)));
    const breakdown = Object.entries(phases)
      .map(([phase, times]) => `${phase} ${fmt(median(times), 1)}`)
      .join(', ');
    const bare = median(await series((i) => runcLifecycle(`r${i}`)));
    const steps = median(await series((i) => runcSteps(`s${i}`)));
    const ctr = median(await series((i) => ctrLifecycle(`c${i}`)));
    const ids = Array.from({ length: CONCURRENT }, (_, i) => i);
    const berthBurst = await timed(() => Promise.all(ids.map((i) => berthLifecycle(`bb${i}`))));
    const bareBurst = await timed(() => Promise.all(ids.map((i) => runcLifecycle(`rb${i}`))));
    return [
      {
        name: `container lifecycle, busybox \`true\` (median of ${ROUNDS}) vs bare \`runc run\``,
        value: `${fmt(berth, 1)} ms`,
        comparison:
          `bare runc ${fmt(bare, 1)} ms → ${fmt(berth / bare, 2)}×; bare runc create + start + delete ${fmt(steps, 1)} ms → ` +
          `${fmt(berth / steps, 2)}×; berth's phases (median ms): ${breakdown}`,
        goal: '≤ 1.3× bare runc',
        met: berth / bare <= 1.3,
      },
      {
        name: `container lifecycle vs containerd 1.6 (ctr run --rm --rootfs, median of ${ROUNDS})`,
        value: `${fmt(berth, 1)} ms`,
        comparison: `containerd ${fmt(ctr, 1)} ms → ${fmt(berth / ctr, 2)}×`,
        goal: '≤ 0.5× containerd',
        met: berth / ctr <= 0.5,
      },
      {
        name: `${CONCURRENT} container lifecycles at once: total time`,
        value: `${fmt(berthBurst)} ms`,
        comparison: `bare runc ${fmt(bareBurst)} ms → ${fmt(berthBurst / bareBurst, 2)}×`,
        goal: 'reported',
        met: true,
      },
    ];
  } finally {
    await sv.close();
    ctd.stop();
    scratch.remove();
  }
}
