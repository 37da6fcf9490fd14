import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { BerthError } from '../errors.js';

/** Resolves a runtime binary on PATH (or checks an explicit path), saying how to install it when it is missing. */
export function findBinary(command: string, debianPackage: string): string {
  const candidates = isAbsolute(command) ? [command] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  throw new BerthError(
    'runtime-error',
    `${command} not found${isAbsolute(command) ? '' : ' on PATH'}: install it (Debian: apt-get install ${debianPackage}) or pass its path`,
  );
}
