import { describe, expect, it } from 'vitest';
import { Sweep } from '../../src/io/os/sweep.js';

/** Lets the sweep's slices (each ended by a setImmediate) run to the end of the tick. */
const settled = () => new Promise((done) => setTimeout(done, 20));

describe('the watchdog sweep', () => {
  it('makes at most perTick checks a tick, and the next tick goes on where the last stopped', async () => {
    const items = new Map(Array.from({ length: 250 }, (_, i) => [i, i]));
    const checked: number[] = [];
    const sweep = new Sweep(() => items.values(), (i) => checked.push(i), 100);
    sweep.tick();
    await settled();
    expect(checked).toEqual([...Array(100).keys()]);
    sweep.tick();
    await settled();
    sweep.tick();
    await settled();
    expect(checked).toEqual([...Array(250).keys()]);
    // The round is over: the next tick begins another.
    sweep.tick();
    await settled();
    expect(checked.slice(250)).toEqual([...Array(100).keys()]);
  });

  it('lets the event loop run between slices, and sees what is removed meanwhile', async () => {
    const items = new Map(Array.from({ length: 300 }, (_, i) => [i, i]));
    const checked: number[] = [];
    const sweep = new Sweep(() => items.values(), (i) => checked.push(i), 1_000);
    sweep.tick();
    // The first slice ran synchronously; the rest waits for the event loop.
    expect(checked).toHaveLength(100);
    items.delete(250);
    await settled();
    expect(checked).toHaveLength(299);
    expect(checked).not.toContain(250);
  });

  it('checks nothing once stopped, and one tick at a time', async () => {
    const checked: number[] = [];
    const sweep = new Sweep(() => Array.from({ length: 300 }, (_, i) => i), (i) => checked.push(i), 1_000);
    sweep.tick();
    sweep.tick(); // the first is still running: nothing more
    await sweep.stop();
    expect(checked).toHaveLength(100);
    sweep.tick();
    await settled();
    expect(checked).toHaveLength(100);
  });
});
