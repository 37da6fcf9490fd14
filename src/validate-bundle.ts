import { BerthError } from './errors.js';
import type { BundleProcess } from './types.js';
import { optionsObject, osString, shown, validateEnv, validateProcessFields } from './validate.js';

const CHANGEABLE = ['args', 'env', 'cwd'];

/** create's changes to a bundle's process: args, env and an absolute cwd (a path inside the container), nothing else. */
export function validateBundleProcess(value: unknown): BundleProcess {
  const fields = optionsObject(value, 'process', true);
  const other = Object.keys(fields).find((key) => !CHANGEABLE.includes(key) && fields[key] !== undefined);
  if (other !== undefined) {
    throw new BerthError('invalid-spec', `with a bundle, process may change only args, env and cwd (the rest is config.json's), not ${shown(other)}`);
  }
  const changes: BundleProcess = {};
  if (fields.args !== undefined) changes.args = validateProcessFields({ args: fields.args }, 'process').args;
  if (fields.env !== undefined) changes.env = validateEnv(fields.env);
  if (fields.cwd !== undefined) {
    changes.cwd = osString(fields.cwd, 'process.cwd');
    if (!changes.cwd.startsWith('/')) throw new BerthError('invalid-spec', `process.cwd is a path inside the container and must be absolute, not ${shown(changes.cwd)}`);
  }
  return changes;
}
