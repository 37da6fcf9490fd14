import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

export async function startDaemon(stateDir: string, ...flags: string[]): Promise<ChildProcess> {
  const daemon = spawn(process.execPath, [BIN, '--state-dir', stateDir, 'daemon', ...flags], { stdio: 'ignore' });
  const socket = join(stateDir, 'berth.sock');
  for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((done) => setTimeout(done, 50));
  return daemon;
}

export async function stopDaemon(daemon: ChildProcess): Promise<void> {
  if (daemon.exitCode !== null || daemon.signalCode !== null) return;
  const exited = new Promise((done) => daemon.once('exit', done));
  daemon.kill('SIGTERM');
  await exited;
}
