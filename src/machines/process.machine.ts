import { assign, setup } from 'xstate';
import type { ExitInfo } from '../types.js';

export interface ProcessInput {
  containerId: string;
  processId: string;
}

export interface ProcessContext extends ProcessInput {
  pid?: number;
  exit?: ExitInfo;
}

export type ProcessEvent = { type: 'STARTED'; pid: number } | { type: 'EXITED'; exit: ExitInfo } | { type: 'DELETE' };

/**
 * One process (a container's init, or an exec): created → running → exited → deleted;
 * a restart policy takes init from exited to running again, as its next generation.
 * Its container drives it once each transition is decided and journaled, so this
 * actor is what the inspector and diagrams show of the process.
 */
export const processMachine = setup({
  types: {
    input: {} as ProcessInput,
    context: {} as ProcessContext,
    events: {} as ProcessEvent,
  },
}).createMachine({
  id: 'process',
  initial: 'created',
  context: ({ input }) => ({ ...input }),
  states: {
    created: {
      on: {
        STARTED: { target: 'running', actions: assign({ pid: ({ event }) => event.pid }) },
        DELETE: 'deleted',
      },
    },
    running: {
      on: { EXITED: { target: 'exited', actions: assign({ exit: ({ event }) => event.exit }) } },
    },
    exited: {
      on: {
        STARTED: { target: 'running', actions: assign({ pid: ({ event }) => event.pid, exit: undefined }) },
        DELETE: 'deleted',
      },
    },
    deleted: { type: 'final' },
  },
});
