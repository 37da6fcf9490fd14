import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { answers } from '../src/cli/daemon-backend.js';
import { fmt, median, scratchDir, type Result } from './util.js';

const BIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const ROUNDS = 10;
const STREAM_BYTES = 50 * 1024 * 1024;

/** Runs a command to its end, its stdout read (and counted) by this process; resolves with the seconds it took. */
function timed(command: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.resume();
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve((performance.now() - start) / 1000) : reject(new Error(`${command} ${args.join(' ')} exited ${code}`))));
  });
}

/**
 * The CLI through `berth daemon` (issue 13 §1): `berth ps` and `berth run --rm x
 * -- true` beside `node -e 0`, rounds interleaved so that load hits all three
 * alike; and 50 MB of output through an attached `berth run` beside the same
 * bytes through a raw pipe.
 */
export async function cliBench(): Promise<Result[]> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build first`);
  const scratch = scratchDir('cli');
  const berth = (...args: string[]) => timed(process.execPath, [BIN, '--state-dir', scratch.dir, ...args]);
  const daemon = spawn(process.execPath, [BIN, '--state-dir', scratch.dir, 'daemon'], { stdio: 'ignore' });
  const node: number[] = [];
  const ps: number[] = [];
  const run: number[] = [];
  const stream: number[] = [];
  const pipe: number[] = [];
  try {
    const deadline = Date.now() + 60_000;
    while (!(await answers(join(scratch.dir, 'berth.sock')))) {
      if (Date.now() > deadline) throw new Error('berth daemon did not start within 60 s');
      await new Promise((done) => setTimeout(done, 50));
    }
    await berth('ps'); // warm the file cache
    for (let round = 0; round < ROUNDS; round++) {
      node.push(await timed(process.execPath, ['-e', '0']));
      ps.push(await berth('ps'));
      run.push(await berth('run', '--rm', `x${round}`, '--', 'true'));
    }
    for (let round = 0; round < 3; round++) {
      pipe.push(await timed('head', ['-c', String(STREAM_BYTES), '/dev/zero']));
      stream.push(await berth('run', '--rm', `s${round}`, '--', 'head', '-c', String(STREAM_BYTES), '/dev/zero'));
    }
  } finally {
    const exited = new Promise((done) => daemon.once('exit', done));
    daemon.kill('SIGTERM');
    await exited;
    scratch.remove();
  }
  const baseline = median(node);
  const ms = (seconds: number) => `${fmt(seconds * 1000)} ms`;
  const ratio = (value: number, of: number) => value / of;
  return [
    {
      name: `berth ps through a daemon (median of ${ROUNDS})`,
      value: ms(median(ps)),
      comparison: `node -e 0 ${ms(baseline)} → ${fmt(ratio(median(ps), baseline), 2)}×`,
      goal: '≤ 1.5× node -e 0',
      met: ratio(median(ps), baseline) <= 1.5,
    },
    {
      name: `berth run --rm x -- true through a daemon (median of ${ROUNDS})`,
      value: ms(median(run)),
      comparison: `node -e 0 ${ms(baseline)} → ${fmt(ratio(median(run), baseline), 2)}×`,
      goal: '≤ 2× node -e 0',
      met: ratio(median(run), baseline) <= 2,
    },
    {
      name: '50 MB of output through an attached berth run (median of 3)',
      value: ms(median(stream)),
      comparison: `raw pipe from head ${ms(median(pipe))} → ${fmt(ratio(median(stream), median(pipe)), 2)}×`,
      goal: '≤ 2× a raw pipe',
      met: ratio(median(stream), median(pipe)) <= 2,
    },
  ];
}
