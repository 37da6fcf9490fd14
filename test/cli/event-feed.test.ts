import { describe, expect, it } from 'vitest';
import { feedEvents } from '../../src/cli/api/event-feed.js';
import type { SseMessage, SseStream } from '../../src/cli/api/sse.js';
import { openSupervisor } from '../helpers.js';

/**
 * A reader that falls behind every `every` events: send() says so, as a
 * response past its high-water mark does, and it drains a moment later.
 * (Through a real socket the kernel's buffers would take megabytes first.)
 */
function laggingStream(every: number): SseStream & { sent: SseMessage[]; ended: Promise<void>; overrun: number } {
  const sent: SseMessage[] = [];
  let behind = false;
  let drain = (): void => undefined;
  let end!: () => void;
  const ended = new Promise<void>((resolve) => (end = resolve));
  const stream = {
    sent,
    ended,
    /** Events sent while the reader was behind: what would pile up in the daemon. */
    overrun: 0,
    send(message: SseMessage) {
      if (behind && message.event === undefined) stream.overrun++;
      sent.push(message);
      if (sent.length % every !== 0) return true;
      behind = true;
      setTimeout(() => {
        behind = false;
        drain();
      }, 5);
      return false;
    },
    onDrain: (resume: () => void) => void (drain = resume),
    onClose: () => undefined,
    end: () => end(),
  };
  return stream as unknown as SseStream & typeof stream;
}

describe('an events stream whose reader falls behind', () => {
  it('is taken up again where it stopped: every row, in order, once, replayed and live', async () => {
    const sv = await openSupervisor();
    for (let i = 0; i < 30; i++) await sv.create({ id: `c${i}`, process: { args: ['true'] } });
    const stored = sv.lastSeq;
    const replayed = laggingStream(7);
    feedEvents(sv, { after: 0, storedOnly: true }, replayed);
    await replayed.ended;
    expect(replayed.sent.map((m) => m.id ?? m.event)).toEqual([...Array.from({ length: stored }, (_, i) => i + 1), 'end']);
    expect(replayed.overrun).toBe(0);

    const live = laggingStream(3);
    feedEvents(sv, { after: stored - 5 }, live);
    for (let i = 0; i < 30; i++) await sv.delete(`c${i}`);
    await expect.poll(() => live.sent.length).toBe(35);
    expect(live.sent.map((m) => m.id)).toEqual(Array.from({ length: 35 }, (_, i) => stored - 4 + i));
    expect(live.overrun).toBe(0);
  }, 120_000);
});
