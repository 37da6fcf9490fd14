import { join } from 'node:path';
import { concatMap, delay, firstValueFrom, lastValueFrom, of, take, tap, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Journal } from '../../src/io/journal/journal.js';
import { eventStream } from '../../src/io/journal/event-stream.js';
import type { BerthEvent } from '../../src/index.js';
import { brief, openSupervisor, storedEvents, tempDir } from '../helpers.js';

function openJournal(retainCount = 0, dir = tempDir()): Journal {
  return new Journal(join(dir, 'journal.db'), retainCount);
}

const tick = () => new Promise<void>((done) => setImmediate(done));

async function appendOver(journal: Journal, count: number, perTick: number, id = 'c'): Promise<void> {
  for (let i = 0; i < count; i++) {
    journal.append({ type: 'start-process', id, processId: `e${i}` });
    if (i % perTick === perTick - 1) await tick();
  }
  await new Promise<void>((done) => journal.whenCommitted(done));
}

describe('the event journal', () => {
  it('keeps exactly the newest retainCount rows', async () => {
    const journal = openJournal(100);
    await appendOver(journal, 1_234, 97);
    expect(journal.count()).toBe(100);
    expect(journal.oldestSeq()).toBe(1_135);
    expect(journal.headSeq).toBe(1_234);
    journal.close();
  });

  it('keeps every row with retainCount 0', async () => {
    const journal = openJournal(0);
    await appendOver(journal, 1_000, 100);
    expect(journal.count()).toBe(1_000);
    journal.close();
  });

  it('continues seq after close and reopen, even when retention removed the newest-but-N rows', async () => {
    const dir = tempDir();
    const first = openJournal(3, dir);
    await appendOver(first, 10, 4);
    first.close();
    const second = openJournal(3, dir);
    expect(second.headSeq).toBe(10);
    const event = second.append({ type: 'oom', id: 'c' });
    expect(event.seq).toBe(11);
    second.close();
  });

  it('joins replay and live with no gap and no duplicate at the seam', async () => {
    const journal = openJournal(0);
    await appendOver(journal, 500, 50);
    const seen: number[] = [];
    const done = lastValueFrom(eventStream(journal, { after: 200 }).pipe(take(800), toArray()));
    // Appends keep landing while the replay is delivered.
    await appendOver(journal, 500, 7);
    for (const event of await done) seen.push(event.seq);
    expect(seen).toEqual(Array.from({ length: 800 }, (_, i) => 201 + i));
    journal.close();
  });

  it('never loses events to a slow subscriber, and a slow one does not hold back a fast one', async () => {
    const journal = openJournal(0);
    const slow: number[] = [];
    let slowWhenFastFinished = -1;
    const slowDone = lastValueFrom(
      eventStream(journal, { after: 0 }).pipe(
        take(3_000),
        concatMap((event) => (event.seq % 500 === 0 ? of(event).pipe(delay(20)) : of(event))),
        tap((event) => slow.push(event.seq)),
      ),
    );
    const fastDone = lastValueFrom(eventStream(journal, { after: 0 }).pipe(take(3_000), toArray())).then((events) => {
      slowWhenFastFinished = slow.length;
      return events;
    });
    await appendOver(journal, 3_000, 250);
    const fast = await fastDone;
    await slowDone;
    expect(fast.map((e) => e.seq)).toEqual(Array.from({ length: 3_000 }, (_, i) => i + 1));
    expect(slow).toEqual(Array.from({ length: 3_000 }, (_, i) => i + 1));
    // The fast subscriber had everything while the slow one was still far behind.
    expect(slowWhenFastFinished).toBeLessThan(3_000);
    journal.close();
  });

  it('errors, rather than silently skipping, when asked to replay rows retention has removed', async () => {
    const journal = openJournal(10);
    await appendOver(journal, 50, 10);
    const err = await firstValueFrom(eventStream(journal, { after: 5 })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'events-pruned' });
    const kept = await firstValueFrom(eventStream(journal, { after: 40, storedOnly: true }).pipe(toArray()));
    expect(kept.map((e) => e.seq)).toEqual([41, 42, 43, 44, 45, 46, 47, 48, 49, 50]);
    journal.close();
  });
});

describe('events() on the supervisor', () => {
  it('filters by container, type and time, and storedOnly completes after the replay', async () => {
    const sv = await openSupervisor();
    for (const id of ['ls-0', 'ls-1', 'ls-2']) {
      await sv.create({ id, process: { args: ['ls', '/'] } });
      await sv.start(id);
      await sv.wait(id);
    }
    const only = await firstValueFrom(sv.events({ after: 0, id: 'ls-1', storedOnly: true }).pipe(toArray()));
    expect(brief(only)).toEqual(['create', 'start-container:init', 'exit:init=0']);
    expect(only.every((e) => e.id === 'ls-1')).toBe(true);
    const exits = await firstValueFrom(sv.events({ after: 0, types: ['exit'], storedOnly: true }).pipe(toArray()));
    expect(exits.map((e) => e.id)).toEqual(['ls-0', 'ls-1', 'ls-2']);
    const cut = (await storedEvents(sv)).find((e) => e.id === 'ls-2')!.time;
    const since = await firstValueFrom(sv.events({ since: cut, storedOnly: true }).pipe(toArray()));
    expect(since.length).toBeGreaterThan(0);
    expect(since.every((e) => e.time.getTime() >= cut.getTime())).toBe(true);
  });

  it('replays after a seq and then continues live, exactly once each', async () => {
    const sv = await openSupervisor();
    await sv.create({ id: 'a', process: { args: ['true'] } });
    const cursor = sv.lastSeq;
    const collected = firstValueFrom(sv.events({ after: cursor }).pipe(take(4), toArray()));
    await sv.start('a');
    await sv.wait('a');
    await sv.delete('a');
    await sv.create({ id: 'b', process: { args: ['true'] } });
    const events: BerthEvent[] = await collected;
    expect(events.map((e) => e.seq)).toEqual([cursor + 1, cursor + 2, cursor + 3, cursor + 4]);
    expect(brief(events)).toEqual(['start-container:init', 'exit:init=0', 'delete', 'create']);
  });

  it('keeps the journal across close and reopen of a state dir', async () => {
    const stateDir = tempDir();
    const first = await openSupervisor({ stateDir });
    await first.create({ id: 'k', process: { args: ['true'] } });
    await first.start('k');
    await first.wait('k');
    await first.delete('k');
    await first.close();
    const second = await openSupervisor({ stateDir });
    expect(second.lastSeq).toBe(4);
    await second.create({ id: 'k', process: { args: ['true'] } });
    const all = await storedEvents(second);
    expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('completes live streams when the supervisor closes', async () => {
    const sv = await openSupervisor();
    const live = lastValueFrom(sv.events({ since: new Date(0) }).pipe(toArray()));
    await sv.create({ id: 'x', process: { args: ['true'] } });
    await sv.close();
    expect(brief(await live)).toEqual(['create']);
  });
});
