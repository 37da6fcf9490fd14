import type { Command } from 'commander';
import { BerthError } from '../../errors.js';
import type { CreateOptions } from '../../types.js';
import { envFlags, envOf, type EnvFlags } from './env-flags.js';
import { collect, parsePairs, print, withBackend, withSpinner } from './shared.js';

export interface CreateFlags extends EnvFlags {
  bundle?: string;
  label?: string[];
  cwd?: string;
}

/** The flags `create` and `run` share: what the container runs, and its labels. */
export const createFlags = (command: Command) =>
  envFlags(
    command.option('--bundle <dir>', 'OCI bundle (runc runtime)').option('--label <key=value>', 'label the container (repeatable)', collect),
  ).option('--cwd <dir>', 'working directory of the process (with --bundle: a path inside the container)');

export function createOptions(id: string, command: string[], flags: CreateFlags): CreateOptions {
  const labels = parsePairs(flags.label, '--label');
  if (flags.bundle) return { id, bundle: flags.bundle, labels, ...bundleChanges(command, flags) };
  if (command.length === 0) throw new BerthError('invalid-spec', 'give a command after --, or --bundle for runc');
  return { id, labels, process: { args: command, ...envOf(flags), cwd: flags.cwd } };
}

/** A command, --env, --env-file and --cwd with --bundle change berth's copy of its config.json, as with `ctr run`. */
function bundleChanges(command: string[], flags: CreateFlags): Pick<CreateOptions, 'process'> {
  if (flags.inheritEnv) throw new BerthError('invalid-spec', "--inherit-env is for processes: a bundle's env is its config.json's, plus --env");
  const { env } = envOf(flags);
  const process = { ...(command.length > 0 ? { args: command } : {}), ...(env && Object.keys(env).length > 0 ? { env } : {}), ...(flags.cwd ? { cwd: flags.cwd } : {}) };
  return Object.keys(process).length > 0 ? { process } : {};
}

export function createCommand(program: Command): void {
  createFlags(program.command('create <id> [command...]').description('create a container (init not started)')).action(
    async (id: string, command: string[], flags: CreateFlags) => {
      await withBackend((b) => withSpinner(`creating ${id}`, b.create(createOptions(id, command, flags))));
      print({ id }, () => id);
    },
  );
}
