import { readdirSync } from 'node:fs';
import { commandLine, readIfPresent } from '../../src/io/os/os-process.js';

const pids = () => readdirSync('/proc').filter((pid) => /^\d+$/.test(pid)).map(Number);
const statOf = (pid: number) => readIfPresent(`/proc/${pid}/stat`)?.split(') ')[1]?.split(' ') ?? [];

/** The running zygote a supervisor in process `supervisorPid` started: its child `berth-shim zygote`. */
export function zygoteOf(supervisorPid: number): number {
  const zygotes = pids().filter((pid) => {
    const [state, parent] = statOf(pid);
    return Number(parent) === supervisorPid && state !== 'Z' && commandLine(pid)?.endsWith('berth-shim zygote');
  });
  if (zygotes.length !== 1) throw new Error(`expected one zygote of ${supervisorPid}, found ${zygotes.length}`);
  return zygotes[0]!;
}

/**
 * Live processes (zombies have no environment) whose environment holds
 * `BERTH_TEST_MARK=<mark>`; berth-shim's own (zygote, monitors) only if asked.
 */
export function markedProcesses(mark: string, { shims = false } = {}): number[] {
  return pids().filter(
    (pid) =>
      readIfPresent(`/proc/${pid}/environ`)?.split('\0').includes(`BERTH_TEST_MARK=${mark}`) &&
      (shims || !commandLine(pid)?.endsWith('berth-shim zygote')),
  );
}
