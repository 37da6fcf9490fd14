import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { BerthError } from '../../errors.js';

/** The shim's source as the package ships it: <package>/src/io/process/berth-shim.c, from src/io or dist/io alike. */
const SHIM_SOURCE = fileURLToPath(new URL('../../../src/io/process/berth-shim.c', import.meta.url));

/** How a user gets a shim built from this berth's source: npm compiles it when berth is installed. */
export const REBUILD_HINT =
  'rebuild it with `npm rebuild berth` in the project that installed berth (allowed by its package.json allowScripts, ' +
  'with a C compiler: cc), or `npm run build` in a berth checkout';

const verified = new Map<string, Promise<void>>();

/**
 * Checks, once per path and process, that the shim is there, runs, and was
 * built from the source this berth ships (scripts/build-shim.mjs stamps it with
 * that source's digest): a shim from another version, or another machine, is
 * refused at open with how to rebuild it, not found out at the first start.
 */
export function verifyShim(shimPath: string): Promise<void> {
  let check = verified.get(shimPath);
  if (!check) {
    check = checkShim(shimPath);
    verified.set(shimPath, check);
    check.catch(() => verified.delete(shimPath)); // a shim rebuilt since is checked again
  }
  return check;
}

async function checkShim(shimPath: string): Promise<void> {
  if (!existsSync(shimPath)) throw new BerthError('runtime-error', `berth-shim not found at ${shimPath}: ${REBUILD_HINT}`);
  const result = await execa(shimPath, ['--version'], { timeout: 10_000, reject: false, stdin: 'ignore' });
  if (result.failed && (result.exitCode === undefined || result.timedOut)) {
    throw new BerthError('runtime-error', `berth-shim at ${shimPath} does not run (${(result.shortMessage ?? '').slice(0, 300)}): ${REBUILD_HINT}`);
  }
  const expected = createHash('sha256').update(readFileSync(SHIM_SOURCE)).digest('hex').slice(0, 16);
  if (result.stdout.trim() === `berth-shim ${expected}`) return;
  // Another version's shim, one from before this check (no --version), another machine's binary (run by sh as a script).
  const said = (result.stdout.trim() || result.stderr.trim() || `exit ${result.exitCode}`).split('\n')[0]!.slice(0, 200);
  throw new BerthError(
    'runtime-error',
    `berth-shim at ${shimPath} is not the one built from this berth's source (berth-shim ${expected}; it says ${JSON.stringify(said)}): ${REBUILD_HINT}`,
  );
}
