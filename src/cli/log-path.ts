import { join } from 'node:path';
import { validateId, validateProcessId } from '../validate.js';

/**
 * Where a process's log is: both runtimes keep it here, and its format is told
 * by its first line. The ids become a path before the API has seen them, so
 * they are checked first: nothing may lead out of the state dir.
 */
export function processLogPath(stateDir: string, id: string, processId: string): string {
  validateId(id, 'container');
  validateProcessId(processId);
  return join(stateDir, 'containers', id, `${processId}.log`);
}
