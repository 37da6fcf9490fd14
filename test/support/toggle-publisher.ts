/**
 * Another program that publishes to a berth relay, as any XState app can with
 * `createWebSocketInspector`: a "toggle" machine, in a process of its own, so its
 * actor ids start at "x:0" as berth's do in theirs. Runs until killed.
 * Usage: toggle-publisher.ts <relay WebSocket url>
 */
import { createWebSocketInspector } from '@statelyai/inspect';
import { createActor, createMachine } from 'xstate';

const inspector = createWebSocketInspector({ url: process.argv[2]! });
const toggle = createActor(createMachine({ id: 'toggle', initial: 'off', states: { off: { on: { TOGGLE: 'on' } }, on: {} } }), { inspect: inspector.inspect });
toggle.start();
toggle.send({ type: 'TOGGLE' });
setInterval(() => undefined, 60_000);
