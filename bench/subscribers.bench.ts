import { join } from 'node:path';
import { Journal } from '../src/io/journal/journal.js';
import { eventStream } from '../src/io/journal/event-stream.js';
import { fmt, scratchDir, type Result } from './util.js';

const SUBSCRIBERS = 50;
const EVENTS = 100_000;
const BURST = 1_000;

/** 50 live subscribers while 100k events are journaled; every one must see every event, in order. */
export async function subscribersBench(): Promise<Result> {
  const scratch = scratchDir('subs');
  const journal = new Journal(join(scratch.dir, 'journal.db'), 500);
  const received = new Array<number>(SUBSCRIBERS).fill(0);
  const outOfOrder = new Array<number>(SUBSCRIBERS).fill(0);
  const done = Array.from({ length: SUBSCRIBERS }, (_, s) => {
    let last = 0;
    return new Promise<void>((resolve) => {
      const subscription = eventStream(journal, {}).subscribe((event) => {
        if (event.seq !== last + 1) outOfOrder[s]!++;
        last = event.seq;
        if (++received[s]! === EVENTS) {
          subscription.unsubscribe();
          resolve();
        }
      });
    });
  });
  const start = performance.now();
  for (let i = 0; i < EVENTS; i++) {
    journal.append({ type: 'start-process', id: 'c', processId: `e${i}` });
    if (i % BURST === BURST - 1) await new Promise<void>((tick) => setImmediate(tick));
  }
  await Promise.race([Promise.all(done), new Promise((r) => setTimeout(r, 120_000))]);
  const seconds = (performance.now() - start) / 1000;
  journal.close();
  scratch.remove();
  const lost = received.reduce((sum, n) => sum + (EVENTS - n), 0);
  const disorder = outOfOrder.reduce((sum, n) => sum + n, 0);
  return {
    name: `${SUBSCRIBERS} subscribers × ${fmt(EVENTS)} events (retainCount 500)`,
    value: `${lost} lost, ${disorder} out of order`,
    comparison: `${fmt((SUBSCRIBERS * EVENTS) / seconds)} deliveries/s, ${fmt(seconds, 1)} s`,
    goal: '0 lost',
    met: lost === 0 && disorder === 0,
  };
}
