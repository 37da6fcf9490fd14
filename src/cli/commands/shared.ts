import { BerthError, isBerthError } from '../../errors.js';
import type { Backend } from '../backend.js';
import { daemonBackend } from '../daemon-backend.js';
import { globals } from '../program.js';
import { rememberRuntime, runtimeFor } from '../state-runtime.js';

/** Runs `fn` against the daemon if one serves the state dir, else against the state dir directly. */
export async function withBackend<T>(fn: (backend: Backend) => Promise<T>, extra: { inspect?: boolean; serve?: boolean } = {}): Promise<T> {
  const { stateDir, logLevel } = globals();
  const runtime = runtimeFor(stateDir, globals().runtime); // a conflicting --runtime is refused, daemon or not
  let backend = await daemonBackend(stateDir);
  if (!backend) {
    // The supervisor's modules (xstate, SQLite, rxjs, ...) are loaded only for a command that opens the state dir itself.
    const [{ localBackend }, { logger }] = await Promise.all([import('../local-backend.js'), import('../logger.js')]);
    try {
      backend = await localBackend({ stateDir, runtime, logger: await logger(logLevel), inspect: extra.inspect }, extra.serve);
      rememberRuntime(stateDir, runtime);
    } catch (err) {
      if (isBerthError(err, 'locked')) {
        throw new BerthError('locked', `${err.message}, which is not a berth daemon: stop it, or run \`berth daemon\` so that commands can share the state dir`);
      }
      throw err;
    }
  }
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}

/** SIGINT (Ctrl-C) or SIGTERM: a command that runs until told to stop then ends cleanly, socket and lock released. */
export const stopSignal = (): Promise<void> =>
  new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop).off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop).on('SIGTERM', stop);
  });

/** `value` as JSON with --json, else the text `human` makes (nothing at all for none: `ps -q` with no containers). */
export function print(value: unknown, human: () => string): void {
  const text = globals().json ? JSON.stringify(value, null, 2) : human();
  if (text !== '') console.log(text);
}

export function parsePairs(pairs: string[] = [], what: string): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new BerthError('invalid-spec', `${what} must look like KEY=VALUE, got ${JSON.stringify(pair)}`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

/** Commander argument parser for a repeatable option. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Shows a spinner on a terminal while `work` runs (ora, loaded only then). */
export async function withSpinner<T>(text: string, work: Promise<T>): Promise<T> {
  if (!process.stderr.isTTY || globals().json === true) return work;
  const { default: ora } = await import('ora');
  const spinner = ora({ text, stream: process.stderr }).start();
  return work.finally(() => spinner.stop());
}
