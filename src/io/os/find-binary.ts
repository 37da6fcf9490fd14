import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { BerthError } from '../../errors.js';

/**
 * Resolves a command as execvp would: a path with a slash as it is (relative to
 * `cwd`), otherwise the first executable file of that name on `PATH`.
 */
export function lookPath(command: string, cwd: string, path: string | undefined): string | undefined {
  const candidates = command.includes('/')
    ? [isAbsolute(command) ? command : resolve(cwd, command)]
    : (path ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // try the next PATH entry
    }
  }
  return undefined;
}

/** Resolves a runtime binary on PATH (or checks an explicit path), saying how to install it when it is missing. */
export function findBinary(command: string, debianPackage: string): string {
  const found = lookPath(command, process.cwd(), process.env.PATH);
  if (found) return found;
  throw new BerthError(
    'runtime-error',
    `${command} not found${isAbsolute(command) ? '' : ' on PATH'}: install it (Debian: apt-get install ${debianPackage}) or pass its path`,
  );
}
