import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

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

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));

/** Runs a supervisor in a child process through `steps` (see crash-child.ts), then kills it with SIGKILL. */
export async function runThenCrash(stateDir: string, steps: string[], crashAfterMs = 0, runtime: 'process' | 'runc' = 'process'): Promise<Crashed> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, stateDir, ...steps], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BERTH_RUNTIME: runtime },
  });
  const exited = new Promise((done) => child.once('exit', done));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`crash child exited early (${code})`)));
  });
  if (crashAfterMs > 0) await new Promise((done) => setTimeout(done, crashAfterMs));
  child.kill('SIGKILL');
  await exited;
  return JSON.parse(line.slice('READY '.length)) as Crashed;
}
