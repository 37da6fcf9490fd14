import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onCleanup } from '../helpers.js';

export const BIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built `berth` binary, as a user would. */
export function berth(stateDir: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, '--state-dir', stateDir, ...args], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/**
 * Starts `berth daemon` on a state dir and returns once it answers on its
 * socket (however long a loaded machine takes to start it); it is stopped after
 * the test even if the test never gets to stop it.
 */
export async function startDaemon(stateDir: string, ...flags: string[]): Promise<ChildProcess> {
  const daemon = spawn(process.execPath, [BIN, '--state-dir', stateDir, 'daemon', ...flags], { stdio: 'ignore' });
  onCleanup(() => stopDaemon(daemon));
  const socket = join(stateDir, 'berth.sock');
  const deadline = Date.now() + 60_000;
  while (!(await answers(socket))) {
    if (daemon.exitCode !== null || daemon.signalCode !== null) throw new Error(`berth daemon ended (${daemon.exitCode ?? daemon.signalCode}) before serving ${socket}`);
    if (Date.now() > deadline) throw new Error(`berth daemon did not serve ${socket} within 60 s`);
    await new Promise((done) => setTimeout(done, 50));
  }
  return daemon;
}

/** Whether something accepts connections on a unix socket. */
function answers(path: string): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

export async function stopDaemon(daemon: ChildProcess): Promise<void> {
  if (daemon.exitCode !== null || daemon.signalCode !== null) return;
  const exited = new Promise((done) => daemon.once('exit', done));
  daemon.kill('SIGTERM');
  await exited;
}
