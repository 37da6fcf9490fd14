import { randomBytes } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { pino } from 'pino';
import { Supervisor } from '../../src/index.js';
import { storedEvents, tempDir } from '../helpers.js';
import { checkOrdering } from '../ordering.js';
import { runThenCrash } from '../support/crash.js';
import { markedProcesses } from './shim-processes.js';

const ROUNDS = 12;

/** A small deterministic generator, so a failing round can be replayed from its seed. */
function generator(seed: number): (n: number) => number {
  let state = seed >>> 0 || 1;
  return (n) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
}

/**
 * One round's random workload, mostly fired without waiting: new containers,
 * and start / exec / signal / delete on those of earlier rounds. An id is never
 * used again once deleted, so each container's journal rows are one lifetime.
 */
function roundSteps(random: (n: number) => number, round: number, ids: string[]): string[] {
  const steps: string[] = [];
  for (let i = 0; i < 6; i++) {
    const choice = random(6);
    const execId = `r${round}x${i}`;
    if (choice === 0 || ids.length === 0) {
      ids.push(`k${round}x${i}`);
      steps.push(`create:${ids.at(-1)}:sleep 0.${random(8)}`);
      continue;
    }
    const id = ids[random(ids.length)]!;
    if (choice === 1) steps.push(`start&:${id}`);
    else if (choice === 2) steps.push(`exec&:${id}:${execId}:sleep 0.${random(4)}`);
    else if (choice === 3) steps.push(`exec&:${id}:${execId}:setsid sleep 30 & sleep 0.${random(3)}`);
    else if (choice === 4) steps.push(`&signal:${id}:init:SIGKILL`);
    else {
      steps.push(`delete&:${id}`);
      ids.splice(ids.indexOf(id), 1);
    }
  }
  return steps;
}

afterEach(() => {
  delete process.env.BERTH_TEST_MARK;
});

it(`survives ${ROUNDS} SIGKILLs amid create / start / exec / signal / delete: the journal keeps its order, nothing escapes`, async () => {
  const stateDir = tempDir('berth-sigkill-loop-');
  const token = randomBytes(6).toString('hex');
  process.env.BERTH_TEST_MARK = token;
  const seed = Number(process.env.BERTH_LOOP_SEED ?? Date.now() % 1_000_000);
  const random = generator(seed);
  const ids: string[] = [];
  const open = () => Supervisor.open({ stateDir, logger: pino({ level: 'silent' }) });
  for (let round = 0; round < ROUNDS; round++) {
    await runThenCrash(stateDir, roundSteps(random, round, ids), random(60));
    const sv = await open();
    try {
      checkOrdering(await storedEvents(sv));
    } catch (err) {
      throw new Error(`round ${round} (BERTH_LOOP_SEED=${seed}): ${(err as Error).message}`);
    } finally {
      await sv.close({ leaveRunning: true });
    }
  }
  const last = await open();
  checkOrdering(await storedEvents(last));
  await last.close();
  await expect.poll(() => markedProcesses(token, { shims: true }), { timeout: 10_000 }).toEqual([]);
}, 180_000);
