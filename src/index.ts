export { Supervisor, type SupervisorOptions } from './supervisor.js';
export { BerthError, isBerthError, type BerthErrorCode } from './errors.js';
export { MAX_ID_LENGTH } from './validate.js';
export * from './types.js';
export { processMachine } from './machines/process.machine.js';
export { containerMachine } from './machines/container.machine.js';
export { supervisorMachine } from './machines/supervisor.machine.js';
export type { ProcessRow } from './io/os/process-table.js';
