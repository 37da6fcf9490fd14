import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import type { Command } from 'commander';
import { BerthError } from '../../errors.js';
import type { ProcessSpec } from '../../types.js';
import { collect, parsePairs } from './shared.js';

export interface EnvFlags {
  env?: string[];
  envFile?: string[];
  inheritEnv?: boolean;
}

/** The flags that make a process's environment, for `create`, `run` and `exec`. */
export const envFlags = (command: Command) =>
  command
    .option('--env <KEY=VALUE>', 'environment for the process (repeatable)', collect)
    .option('--env-file <path>', 'KEY=VALUE lines to add to the environment (repeatable; --env wins)', collect)
    .option('--inherit-env', "start from the supervisor's environment (the daemon's, with a daemon)");

function readEnvFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new BerthError('invalid-spec', `--env-file ${path} cannot be read: ${(err as Error).message}`);
  }
  return parseEnv(text) as Record<string, string>;
}

/** env (the files in order, then each --env) and inheritEnv, as the API takes them. */
export function envOf(flags: EnvFlags): Pick<ProcessSpec, 'env' | 'inheritEnv'> {
  const env = Object.assign({}, ...(flags.envFile ?? []).map(readEnvFile), parsePairs(flags.env, '--env')) as Record<string, string>;
  return flags.inheritEnv ? { env, inheritEnv: true } : { env };
}
