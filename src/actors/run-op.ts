import { fromPromise } from 'xstate';
import { isBerthError } from '../errors.js';
import type { Runtime } from '../io/runtime.js';
import type { OpInput, OpOutput } from '../machines/container.machine.js';
import { resolveSignal } from '../validate.js';

const SIGKILL = resolveSignal('SIGKILL');

/**
 * The container machine's `runOp`: one runtime operation, over the configured
 * runtime. `journaled` resolves once every row appended so far is committed.
 */
export function runOpOver(runtime: Runtime, journaled: () => Promise<void>) {
  return fromPromise<OpOutput, OpInput>(async ({ input }) => {
    const { id, request } = input;
    switch (request.kind) {
      case 'create':
        await runtime.create(id, input.spec);
        return {};
      case 'start':
        return runtime.start(id);
      case 'exec':
        return runtime.exec(id, request.execId, request.spec);
      case 'signal':
        await runtime.signal(id, request.processId, request.signal);
        return {};
      case 'pause':
        await runtime.pause(id);
        return {};
      case 'resume':
        await runtime.resume(id);
        return {};
      case 'delete':
        await runtime.delete(id);
        return {};
      case 'update':
        await runtime.update(id, request.resources);
        return {};
      case 'stats':
        return { value: await runtime.stats(id) };
      case 'checkpoint':
        return { value: await runtime.checkpoint(id, request.options) };
      case 'retire':
        // What the runtime retires (init's record, runc's stopped container) is what a restore learns
        // init's exit from: it goes only once that exit, appended just before, is committed.
        await journaled();
        await runtime.retireInit(id);
        return {};
      case 'restart':
        return runtime.restart(id);
      case 'kill-execs':
        for (const execId of input.liveExecs) {
          // An exec that died on its own meanwhile is what we wanted anyway.
          await runtime.signal(id, execId, SIGKILL).catch((err: unknown) => {
            if (!isBerthError(err, 'invalid-state')) throw err;
          });
        }
        return {};
    }
  });
}

