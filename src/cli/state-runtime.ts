import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../errors.js';
import { readIfPresent } from '../io/os/os-process.js';
import { writePrivateFile } from '../io/os/private-file.js';

export type RuntimeName = 'process' | 'runc';

/**
 * `<state-dir>/runtime`: the runtime the state dir was first opened with, so a
 * command needs no `--runtime` but the first. The journal keeps the same fact
 * (and refuses another runtime); this file lets the CLI learn it without opening
 * the journal, or through a daemon, which has its own runtime.
 */
const runtimeFile = (stateDir: string) => join(stateDir, 'runtime');

/** The runtime to open the state dir with: the one it remembers, the one asked for, else process. */
export function runtimeFor(stateDir: string, asked: RuntimeName | undefined): RuntimeName {
  const remembered = readIfPresent(runtimeFile(stateDir))?.trim();
  if (remembered === undefined || remembered === '') return asked ?? 'process';
  if (remembered !== 'process' && remembered !== 'runc') {
    throw new BerthError('invalid-spec', `${runtimeFile(stateDir)} names no runtime berth knows (${JSON.stringify(remembered.slice(0, 20))}): it should hold process or runc`);
  }
  if (asked !== undefined && asked !== remembered) {
    throw new BerthError(
      'invalid-spec',
      `state dir ${stateDir} uses the ${remembered} runtime, not ${asked}: leave out --runtime (the state dir remembers it), or give another --state-dir`,
    );
  }
  return remembered;
}

/** Called once a supervisor has opened the state dir (its journal accepted the runtime): the first open writes the file, mode 0600. */
export function rememberRuntime(stateDir: string, runtime: RuntimeName): void {
  if (!existsSync(runtimeFile(stateDir))) writePrivateFile(runtimeFile(stateDir), `${runtime}\n`);
}
