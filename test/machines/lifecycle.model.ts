import { createMachine } from 'xstate';

/**
 * The container + exec lifecycle as a user sees it, with a finite state space
 * (at most one exec at a time is modelled), for @xstate/graph to walk.
 */
export const lifecycleModel = createMachine({
  id: 'lifecycle',
  initial: 'created',
  states: {
    created: { on: { START: 'running', DELETE: 'deleted' } },
    running: {
      initial: 'idle',
      states: {
        idle: { on: { EXEC: 'execRunning', PAUSE: '#lifecycle.paused.idle' } },
        execRunning: {
          on: { EXEC_EXIT: 'idle', KILL_EXEC: 'idle', PAUSE: '#lifecycle.paused.execRunning' },
        },
      },
      // PAUSE_AS_INIT_EXITS: a pause sent as init exits by itself, landing before, during or after the exit.
      on: { INIT_EXIT: 'exited', PAUSE_AS_INIT_EXITS: 'exited', FORCE_DELETE: 'deleted' },
    },
    paused: {
      initial: 'idle',
      states: {
        idle: { on: { RESUME: '#lifecycle.running.idle' } },
        execRunning: { on: { RESUME: '#lifecycle.running.execRunning' } },
      },
      on: { KILL: 'exited' },
    },
    exited: { on: { DELETE: 'deleted' } },
    deleted: { type: 'final' },
  },
});

/**
 * The same container with an on-failure restart policy, walked on its own so
 * that the paths stay few: init failing takes it through `restarting` back to
 * running, unless a user's stop or a delete comes during the backoff.
 */
export const restartModel = createMachine({
  id: 'restart',
  initial: 'created',
  states: {
    created: { on: { START: 'running' } },
    running: { on: { INIT_FAIL: 'restarting', INIT_EXIT: 'exited', FORCE_DELETE: 'deleted' } },
    // RESTART: the backoff ends and init runs again; STOP: a user's signal during the backoff ends the policy.
    restarting: { on: { RESTART: 'running', STOP: 'exited', DELETE: 'deleted' } },
    exited: { on: { DELETE: 'deleted' } },
    deleted: { type: 'final' },
  },
});
