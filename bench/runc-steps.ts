/**
 * Where a runc lifecycle's milliseconds go: berth's API phases, each runc call
 * and conmon launch inside them, and the bare runc calls, measured round by
 * round in one process; then what one child_process.spawn costs this process
 * (the fork of the supervisor's whole memory, made for each runc call berth
 * makes itself). Not part of `npm run bench`; run as root:
 *
 *   N=10 node --import tsx bench/runc-steps.ts
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { Supervisor } from '../src/index.js';
import { RuncCli } from '../src/io/runc/runc-cli.js';
import { ShimClient } from '../src/io/process/shim-client.js';
import { busyboxBundle } from '../test/support/busybox-bundle.js';
import { median, scratchDir } from './util.js';

const run = promisify(execFile);
const ROUNDS = Number(process.env.N ?? 10);
const spans = new Map<string, number[]>();
const add = (name: string, ms: number) => spans.set(name, [...(spans.get(name) ?? []), ms]);

// Every runc call and every launch through the zygote, timed where berth makes it.
const runcRun = RuncCli.prototype.run;
RuncCli.prototype.run = async function (args, options) {
  const start = performance.now();
  try {
    return await runcRun.call(this, args, options);
  } finally {
    add(`  in berth: runc ${args[0]}`, performance.now() - start);
  }
};
const launchSynced = ShimClient.prototype.launchSynced;
ShimClient.prototype.launchSynced = async function (args, ...rest) {
  const start = performance.now();
  try {
    return await launchSynced.call(this, args, ...rest);
  } finally {
    const what = args[1] === 'start-created' ? 'berth-shim start-created' : `conmon (runc ${args.includes('--exec') ? 'exec' : 'create'})`;
    add(`  in berth: ${what}`, performance.now() - start);
  }
};

const timed = async (name: string, task: () => Promise<unknown>) => {
  const start = performance.now();
  await task();
  add(name, performance.now() - start);
};
const exited = (args: string[]) =>
  new Promise<void>((ok, fail) => spawn('runc', args, { stdio: 'ignore' }).once('exit', (code) => (code === 0 ? ok() : fail(new Error(`runc ${args.join(' ')}: ${code}`)))));

const scratch = scratchDir('runc-steps');
const bundle = busyboxBundle(scratch.dir, 'bundle', { args: ['/bin/true'] });
const sleeper = busyboxBundle(scratch.dir, 'sleeper', { args: ['/bin/sleep', '1000000'] });
const root = join(scratch.dir, 'bare');
mkdirSync(root);
const sv = await Supervisor.open({ stateDir: join(scratch.dir, 'berth'), runtime: 'runc', logger: pino({ level: 'silent' }) });
try {
  await sv.create({ id: 'host', bundle: sleeper });
  await sv.start('host');
  await exited(['--root', root, 'create', '--bundle', sleeper, 'host']);
  await run('runc', ['--root', root, 'start', 'host']);
  for (let i = -1; i < ROUNDS; i++) {
    if (i === 0) spans.clear(); // round -1 warms up
    const lifecycle = performance.now();
    await timed('API create', () => sv.create({ id: `c${i}`, bundle }));
    await timed('API start', () => sv.start(`c${i}`));
    await timed('API wait', () => sv.wait(`c${i}`));
    await timed('API delete', () => sv.delete(`c${i}`));
    add('berth lifecycle', performance.now() - lifecycle);
    const steps = performance.now();
    await timed('bare runc create', () => exited(['--root', root, 'create', '--bundle', bundle, `b${i}`]));
    await timed('bare runc start', () => run('runc', ['--root', root, 'start', `b${i}`]));
    await timed('bare runc delete', () => run('runc', ['--root', root, 'delete', '--force', `b${i}`]));
    add('bare create + start + delete', performance.now() - steps);
    await timed('bare runc run', () => run('runc', ['--root', root, 'run', '--bundle', bundle, `r${i}`]));
    await timed('API runExec true', () => sv.runExec('host', { execId: `e${i}`, args: ['/bin/true'] }));
    await timed('bare runc exec true', () => run('runc', ['--root', root, 'exec', 'host', '/bin/true']));
  }
  const spawnCost = `spawn() of /bin/true, event loop blocked (rss ${Math.round(process.memoryUsage().rss / 1e6)} MB)`;
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    const child = spawn('/bin/true', [], { stdio: 'ignore' });
    add(spawnCost, performance.now() - start);
    await new Promise((done) => child.once('exit', done));
  }
} finally {
  await sv.delete('host', { force: true }).catch(() => undefined);
  await run('runc', ['--root', root, 'delete', '--force', 'host']).catch(() => undefined);
  await sv.close();
  scratch.remove();
}
for (const name of [...spans.keys()].sort()) console.log(`${name.padEnd(40)} median ${median(spans.get(name)!).toFixed(1).padStart(7)} ms (n=${spans.get(name)!.length})`);
