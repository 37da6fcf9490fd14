import { constants } from 'node:os';
import { expect } from 'vitest';
import type { BerthEvent } from '../src/index.js';

const osSignals = constants.signals;

/**
 * The ordering guarantees, checked on a journal:
 * - seq strictly increases;
 * - per container: create first; start-container before any exit; start-process
 *   of an exec before its exit; every exit exactly once; every exec exit before
 *   init's exit; no start-process, pause or resume after init's exit; oom after
 *   the start; delete last;
 * - a restart policy's `restart` row (to restarting) follows init's exit and
 *   begins a new generation of init, which keeps all of the above in its turn
 *   (an exec id is used once in the container's whole life).
 */
export function checkOrdering(events: BerthEvent[]): void {
  for (let i = 1; i < events.length; i++) expect(events[i]!.seq).toBeGreaterThan(events[i - 1]!.seq);
  const byContainer = new Map<string, BerthEvent[]>();
  for (const event of events) byContainer.set(event.id, [...(byContainer.get(event.id) ?? []), event]);
  for (const [id, rows] of byContainer) {
    const where = `container ${id}: ${rows.map((e) => `${e.type}:${e.processId ?? ''}`).join(' ')}`;
    const execExits = rows.filter((e) => e.type === 'exit' && e.processId !== 'init').map((e) => e.processId);
    expect(new Set(execExits).size, `${where}: an exec's exit twice`).toBe(execExits.length);
    const generations = splitGenerations(rows);
    generations.forEach((generation, g) => {
      checkGeneration(generation, where);
      if (g > 0) expect(generations[g - 1]!.some(isInitExit), `${where}: a restart before init exited`).toBe(true);
    });
    rows.forEach((event, index) => {
      if (event.type === 'delete') expect(index, `${where}: delete not last`).toBe(rows.length - 1);
    });
  }
}

const isInitExit = (e: BerthEvent) => e.type === 'exit' && e.processId === 'init';

/** A container's rows cut at each restart: each piece is one generation of init. */
function splitGenerations(rows: BerthEvent[]): BerthEvent[][] {
  const generations: BerthEvent[][] = [[]];
  for (const row of rows) {
    if (row.type === 'restart' && row.to === 'restarting') generations.push([]);
    generations[generations.length - 1]!.push(row);
  }
  return generations;
}

function checkGeneration(rows: BerthEvent[], where: string): void {
  const at = (predicate: (e: BerthEvent) => boolean) => rows.findIndex(predicate);
  const start = at((e) => e.type === 'start-container');
  const initExit = at(isInitExit);
  const exits = rows.filter((e) => e.type === 'exit');
  const exitIds = exits.map((e) => e.processId);
  expect(new Set(exitIds).size, `${where}: an exit twice`).toBe(exitIds.length);
  if (exits.length > 0) expect(start, `${where}: exit without start`).toBeGreaterThanOrEqual(0);
  rows.forEach((event, index) => {
    if (event.type === 'exit') expect(index, `${where}: exit before start-container`).toBeGreaterThan(start);
    if (event.type === 'exit' && event.processId !== 'init') {
      const started = at((e) => e.type === 'start-process' && e.processId === event.processId);
      expect(started, `${where}: exec exit before its start`).toBeGreaterThanOrEqual(0);
      expect(started).toBeLessThan(index);
      if (initExit >= 0) expect(index, `${where}: exec exit after init exit`).toBeLessThan(initExit);
    }
    if (event.type === 'start-process' && initExit >= 0) {
      expect(index, `${where}: exec started after init exit`).toBeLessThan(initExit);
    }
    if ((event.type === 'pause' || event.type === 'resume') && initExit >= 0) {
      expect(index, `${where}: ${event.type} after init exit`).toBeLessThan(initExit);
    }
    if (event.type === 'oom') expect(index, `${where}: oom before start-container`).toBeGreaterThan(start);
    if (event.type === 'start-container' && initExit >= 0) expect(index, `${where}: init started after its exit`).toBeLessThan(initExit);
  });
  if (initExit >= 0) {
    // Every exec that started has exited by the time init's exit is published.
    const started = rows.filter((e) => e.type === 'start-process').map((e) => e.processId);
    for (const exec of started) expect(exitIds, `${where}: ${exec} never exited`).toContain(exec);
  }
}

/**
 * A whole journal, as stored: every ordering guarantee, plus seq contiguous (a
 * row is never lost from the middle; only retention removes the oldest, so the
 * first seq is 1 unless `retainCount` rows are kept), and every exit shaped as
 * guarantee 4 says: 128+N with `signal` for signal N, a `reason` only with 255.
 */
export function checkJournal(events: BerthEvent[], retainCount = 500): void {
  checkOrdering(events);
  events.forEach((event, i) => {
    if (i > 0) expect(event.seq, `seq ${events[i - 1]!.seq} then ${event.seq}: a row missing`).toBe(events[i - 1]!.seq + 1);
  });
  if (events.length > 0 && events[0]!.seq !== 1) expect(events.length, `journal starts at seq ${events[0]!.seq} unpruned`).toBe(retainCount);
  for (const exit of events.filter((e) => e.type === 'exit')) {
    const what = JSON.stringify(exit);
    expect(exit.status, `${what}: exit without a status`).toBeTypeOf('number');
    if (exit.signal) expect(exit.status, `${what}: status is not 128+signal`).toBe(128 + osSignals[exit.signal as NodeJS.Signals]);
    if (exit.reason) expect(exit.status, `${what}: a reason without 255`).toBe(255);
  }
}
