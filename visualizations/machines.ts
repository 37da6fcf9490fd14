import { containerMachine, processMachine, supervisorMachine } from '../src/index.js';

/** The statecharts drawn in this folder, by file name. */
export const MACHINES = {
  supervisor: supervisorMachine,
  container: containerMachine,
  process: processMachine,
};
