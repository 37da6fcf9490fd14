import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers.js';

export interface Crashed {
  /** pids of the processes the child supervisor started, by "<container>/<process>". */
  pids: Record<string, number>;
  /** The journal's last committed seq the child saw before it was killed. */
  lastSeq: number;
  /** The dead supervisor's pid. */
  pid: number;
  /** Steps the supervisor refused, with the error code. */
  refused: string[];
}

/** When to kill the child: `delayMs` after it printed the line `after` (see crash-child.ts), or at once if it never does. */
export interface KillPoint {
  after: 'OPENING' | 'OPEN' | 'READY' | `STEP ${number}`;
  delayMs: number;
}

/** A child that has not reached its kill point by then is stuck on a step (a wedged queue): killed, and reported. */
const STUCK_MS = 60_000;

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));

/**
 * Runs a supervisor in a child process through `steps` (see crash-child.ts) and
 * kills it with SIGKILL at `kill`; resolves with every line it printed. A step
 * that failed with something other than a BerthError fails this call.
 */
export async function runUntilKilled(
  stateDir: string,
  steps: string[],
  kill: KillPoint,
  runtime: 'process' | 'runc' = 'process',
  env: Record<string, string> = {},
): Promise<string[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, stateDir, ...steps], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env, BERTH_RUNTIME: runtime, BERTH_BUNDLES_DIR: tempDir('berth-bundles-') },
  });
  const lines: string[] = [];
  // READY: the steps are done, so a later kill point will never come.
  const isKillPoint = (line: string) => line === kill.after || line.startsWith(`${kill.after} `) || line.startsWith('READY ');
  let reached = () => {};
  const exited = new Promise<NodeJS.Signals | null>((done) => child.once('exit', (_, signal) => done(signal)));
  const drained = new Promise<void>((done) => {
    const input = createInterface({ input: child.stdout });
    input.on('line', (line) => {
      lines.push(line);
      if (isKillPoint(line)) reached();
    });
    input.once('close', done);
  });
  const stuck = setTimeout(() => reached(), STUCK_MS);
  await Promise.race([new Promise<void>((done) => (reached = done)), exited]);
  clearTimeout(stuck);
  const arrived = lines.some(isKillPoint);
  if (kill.delayMs > 0) await new Promise((done) => setTimeout(done, kill.delayMs));
  child.kill('SIGKILL');
  const signal = await exited;
  await drained;
  if (!arrived && signal === 'SIGKILL') throw new Error(`crash child wedged: no ${kill.after} within ${STUCK_MS} ms: ${lines.join(' | ')}`);
  if (signal !== 'SIGKILL') throw new Error(`crash child exited early (${child.exitCode}): ${lines.join(' | ')}`);
  const failed = lines.filter((line) => /^STEP \d+ error /.test(line));
  if (failed.length > 0) throw new Error(`crash child: a step failed with something other than a BerthError: ${failed.join(' | ')}`);
  return lines;
}

/** Runs a supervisor in a child process through `steps` (see crash-child.ts), then kills it with SIGKILL. */
export async function runThenCrash(
  stateDir: string,
  steps: string[],
  crashAfterMs = 0,
  runtime: 'process' | 'runc' = 'process',
  env: Record<string, string> = {},
): Promise<Crashed> {
  const lines = await runUntilKilled(stateDir, steps, { after: 'READY', delayMs: crashAfterMs }, runtime, env);
  const ready = lines.find((line) => line.startsWith('READY '));
  if (!ready) throw new Error(`crash child killed before it was ready: ${lines.join(' | ')}`);
  return JSON.parse(ready.slice('READY '.length)) as Crashed;
}
